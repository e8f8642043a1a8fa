import { hex } from '@snp-ref/rmp-core';
import { CliInputError } from '../commandLine/inputError.js';
import { type DecodedField, splitBits } from './bitfields.js';
import { KINDS } from './kinds.js';

export interface Decoded {
  readonly kind: string;
  readonly summary: string;
  readonly source: string;
  readonly value: bigint;
  readonly fields: readonly DecodedField[];
}

/** A problem with what the user asked to decode; the message says what was expected. */
export class DecodeError extends CliInputError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** An integer as sev-snp-measure and C read them: 0x… hex, or decimal (a leading minus for errnos is refused). */
function integer(text: string): bigint | undefined {
  const t = text.trim().replaceAll('_', '');
  return /^(?:0x[0-9a-f]+|\d+)$/i.test(t) ? BigInt(t) : undefined;
}

/** Decodes `text` as a value of `kind`: every field named, every reserved bit shown. */
export function decodeValue(kind: string, text: string): Decoded {
  const k = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  if (k === undefined)
    throw new DecodeError(`KIND: unknown kind "${kind}"; expected one of ${Object.keys(KINDS).join(', ')}`);
  const value = (k.parse ?? integer)(text);
  if (value === undefined) throw new DecodeError(`VALUE: "${text}" is not ${k.summary}`);
  if (value >> BigInt(k.width) !== 0n)
    throw new DecodeError(`VALUE: ${text} does not fit in ${k.width} bits (${k.summary})`);
  return {
    kind,
    summary: k.summary,
    source: k.source,
    value,
    fields: splitBits(value, k.width, k.layout(value)),
  };
}

/** A person's view: one line per field, reserved bits that are set flagged. */
export function formatDecoded(d: Decoded): string {
  const rows = d.fields.map((f) => [
    f.bits,
    f.name,
    hex(f.value),
    f.reserved && f.value !== 0n ? 'SET (reserved bits must be zero)' : (f.meaning ?? ''),
  ]);
  const widths = [0, 1, 2].map((i) =>
    Math.max(...rows.map((r) => (r[i] ?? '').length), ['bits', 'field', 'value'][i]?.length ?? 0),
  );
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c))
      .join('  ')
      .trimEnd();
  return `${d.kind} ${hex(d.value)}: ${d.summary}\nsource: ${d.source}\n${[line(['bits', 'field', 'value', 'meaning']), ...rows.map(line)].join('\n')}\n`;
}

/** The JSON view: numbers as hex strings. */
export function decodedJson(d: Decoded): unknown {
  return { ...d, value: hex(d.value), fields: d.fields.map((f) => ({ ...f, value: hex(f.value) })) };
}
