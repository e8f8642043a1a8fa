import { z } from 'zod';

// Value forms of README.md "Values" (the scenario format): a JSON integer, a "0x…" hex string or a size
// ("4KiB", "2MiB", "1GiB"). Numbers must stay exact: anything past 2^53 is refused here rather
// than rounded, and 64-bit fields (policy) become bigint.

const SIZE_UNITS: Record<string, bigint> = { KiB: 1n << 10n, MiB: 1n << 20n, GiB: 1n << 30n, TiB: 1n << 40n };
const FORMS = 'an integer, a "0x…" hex string or a size such as "4KiB"';

function parseBig(value: number | string): bigint | string {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return BigInt(value);
    if (Number.isInteger(value) && value > 0) {
      return `${value} is beyond 2^53, where JSON numbers lose precision; write it as a "0x…" string`;
    }
    return `expected ${FORMS}, got ${value}`;
  }
  if (/^0x[0-9a-f]+$/i.test(value)) return BigInt(value);
  const size = /^(\d+)(KiB|MiB|GiB|TiB)$/.exec(value);
  if (size?.[1] !== undefined && size[2] !== undefined) return BigInt(size[1]) * (SIZE_UNITS[size[2]] ?? 1n);
  return `expected ${FORMS}, got ${JSON.stringify(value)}`;
}

const raw = z.union([z.number(), z.string()], { error: `expected ${FORMS}` });

/** A non-negative integer below 2^53 (addresses, pfns, lengths). */
export const num = raw.transform((value, ctx) => {
  const parsed = parseBig(value);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  if (parsed >= 1n << 53n) {
    ctx.addIssue({
      code: 'custom',
      message: `${value} is beyond 2^53, the exact integer range of this model`,
    });
    return z.NEVER;
  }
  return Number(parsed);
});

/** A 64-bit unsigned value (policy). */
export const u64 = raw.transform((value, ctx) => {
  const parsed = parseBig(value);
  if (typeof parsed === 'string' || parsed >= 1n << 64n) {
    ctx.addIssue({
      code: 'custom',
      message: typeof parsed === 'string' ? parsed : `${value} does not fit in 64 bits`,
    });
    return z.NEVER;
  }
  return parsed;
});

/** Bytes as a hex string (no 0x), for hv.write / guest.write. */
export const hexData = z
  .string({ error: 'expected a hex string of bytes, such as "deadbeef"' })
  .regex(/^(?:[0-9a-f]{2})*$/i, { error: 'expected an even number of hex digits' })
  .transform((value) => Uint8Array.from(Buffer.from(value, 'hex')));

/** A firmware status or instruction return code, by name or number (resolved by the runner). */
export const codeRef = z.union([z.string(), z.number().int().nonnegative()], {
  error: 'expected a status name or number',
});
