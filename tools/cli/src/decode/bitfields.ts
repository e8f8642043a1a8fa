/** A named bit range of a value, and what a value of it means (if anything beyond the number). */
export interface BitRange {
  readonly name: string;
  readonly lo: number;
  readonly width: number;
  readonly meaning?: (value: bigint) => string | undefined;
}

/** One field of a decoded value. Bits no layout names come out as `reserved` fields, never dropped. */
export interface DecodedField {
  readonly name: string;
  /** "63:56" or "17". */
  readonly bits: string;
  readonly value: bigint;
  readonly meaning?: string;
  readonly reserved?: true;
}

const mask = (width: number) => (1n << BigInt(width)) - 1n;
const bitsText = (lo: number, width: number) => (width === 1 ? `${lo}` : `${lo + width - 1}:${lo}`);

/** Splits `value` (of `width` bits) along `ranges`; every gap becomes a reserved field. */
export function splitBits(value: bigint, width: number, ranges: readonly BitRange[]): DecodedField[] {
  const sorted = [...ranges].sort((a, b) => a.lo - b.lo);
  const fields: DecodedField[] = [];
  const reserved = (lo: number, hi: number) => {
    if (hi > lo)
      fields.push({
        name: 'reserved',
        bits: bitsText(lo, hi - lo),
        value: (value >> BigInt(lo)) & mask(hi - lo),
        reserved: true,
      });
  };
  let next = 0;
  for (const r of sorted) {
    reserved(next, r.lo);
    const v = (value >> BigInt(r.lo)) & mask(r.width);
    const meaning = r.meaning?.(v);
    fields.push({
      name: r.name,
      bits: bitsText(r.lo, r.width),
      value: v,
      ...(meaning !== undefined && { meaning }),
    });
    next = r.lo + r.width;
  }
  reserved(next, width);
  return fields;
}

/** The value the fields were split from (the inverse of splitBits). */
export function joinBits(fields: readonly DecodedField[]): bigint {
  return fields.reduce((acc, f) => acc | (f.value << BigInt(Number(f.bits.split(':').at(-1)))), 0n);
}

/** A lookup for `meaning`: the name of a code, or "unknown". */
export const named =
  (names: Readonly<Record<string, number | bigint>>, unknown = 'unknown') =>
  (value: bigint) =>
    Object.entries(names).find(([, v]) => BigInt(v) === value)?.[0] ?? unknown;

export const flag = (set: string) => (value: bigint) => (value === 0n ? undefined : set);
