import { hex } from '@snp-ref/rmp-core';
import { type DecodedField, splitBits } from './bitfields.js';
import { DecodeError } from './decodeError.js';
import { KINDS, type Kind } from './kinds.js';

export { DecodeError };

export interface Decoded {
  readonly kind: string;
  readonly summary: string;
  readonly source: string;
  /** The page the value is the RMP entry of, where the dmesg line names it. */
  readonly pfn?: bigint;
  readonly value: bigint;
  readonly fields: readonly DecodedField[];
}

/** An integer as sev-snp-measure and C read them: 0x… hex, or decimal (a leading minus for errnos is refused). */
function integer(text: string): bigint | undefined {
  const t = text.trim().replaceAll('_', '');
  return /^(?:0x[0-9a-f]+|\d+)$/i.test(t) ? BigInt(t) : undefined;
}

function kindOf(kind: string): Kind {
  const k = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  if (k === undefined)
    throw new DecodeError(`KIND: unknown kind "${kind}"; expected one of ${Object.keys(KINDS).join(', ')}`);
  return k;
}

const decoded = (kind: string, k: Kind, value: bigint, pfn?: bigint): Decoded => ({
  kind,
  summary: k.summary,
  source: k.source,
  ...(pfn !== undefined && { pfn }),
  value,
  fields: splitBits(value, k.width, k.layout(value)),
});

/** Decodes `text` as a value of `kind`: every field named, every reserved bit shown. */
export function decodeValue(kind: string, text: string): Decoded {
  const k = kindOf(kind);
  const value = (k.parse ?? integer)(text);
  if (value === undefined) throw new DecodeError(`VALUE: "${text}" is not ${k.summary}`);
  if (value >> BigInt(k.width) !== 0n)
    throw new DecodeError(`VALUE: ${text} does not fit in ${k.width} bits (${k.summary})`);
  return decoded(kind, k, value);
}

/** Every value in `text`: the entries of a pasted dmesg block for the kinds that read one, else the one value. */
export function decodeValues(kind: string, text: string): Decoded[] {
  const k = kindOf(kind);
  const found = k.find?.(text);
  return found === undefined ? [decodeValue(kind, text)] : found.map((f) => decoded(kind, k, f.value, f.pfn));
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
  const pfn = d.pfn === undefined ? '' : ` (PFN ${hex(d.pfn)})`;
  return `${d.kind} ${hex(d.value)}${pfn}: ${d.summary}\nsource: ${d.source}\n${[line(['bits', 'field', 'value', 'meaning']), ...rows.map(line)].join('\n')}\n`;
}

/** The JSON view: numbers as hex strings. */
export function decodedJson(d: Decoded): unknown {
  return {
    ...d,
    ...(d.pfn !== undefined && { pfn: hex(d.pfn) }),
    value: hex(d.value),
    fields: d.fields.map((f) => ({ ...f, value: hex(f.value) })),
  };
}
