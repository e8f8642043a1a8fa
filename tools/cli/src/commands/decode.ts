// `snp-ref decode`: every field of a raw value (an RMP entry, a status, a policy, an MSR, …).
import { defineCommand } from '../commandLine/command.js';
import { CliInputError } from '../commandLine/inputError.js';
import type { Decoded } from '../decode/decode.js';

export const decodeCommand = defineCommand({
  name: 'decode',
  summary:
    'Name every field of a value: rmp-entry (or a pasted dmesg block), rmpread, rmpupdate/psmash/pvalidate/rmpadjust codes, fw-status, policy, sev-features, ghcb-msr, exit-code, npf-info',
  arguments: [{ name: 'kind' }, { name: 'value', variadic: true }],
  options: [
    {
      flag: '--json',
      type: 'boolean',
      description: 'print the fields as JSON (an array when a dmesg block holds several entries)',
    },
  ],
  action: async ({ args: { kind, value }, options }, io) => {
    const { decodeValues, decodedJson, formatDecoded } = await import('../decode/decode.js');
    const { KINDS } = await import('../decode/kinds.js');
    if (kind === undefined) {
      const kinds = Object.entries(KINDS).map(([name, k]) => `  ${name.padEnd(10)} ${k.summary}`);
      io.stdout(`snp-ref decode KIND VALUE, where KIND is one of:\n${kinds.join('\n')}\n`);
      return;
    }
    if (value.length === 0) throw new CliInputError('USAGE', `VALUE: what to decode as ${kind} is missing`);
    const decoded = decodeValues(kind, value.join(' '));
    const json = decoded.length === 1 ? decodedJson(decoded[0] as Decoded) : decoded.map(decodedJson);
    io.stdout(options.json ? `${JSON.stringify(json, null, 2)}\n` : decoded.map(formatDecoded).join('\n'));
  },
});
