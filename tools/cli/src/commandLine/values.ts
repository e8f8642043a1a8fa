// Flag values that name bytes or numbers, parsed strictly: a malformed one is a USAGE error naming the flag.
import { CliInputError } from './inputError.js';

const HEX = /^[0-9a-fA-F]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * `size` bytes given as 2×size hex digits (an optional 0x) or as standard base64, the form
 * sev-snp-measure prints (`--output-format base64`, snp-create-id-block). The two cannot be
 * confused: 2×size base64 characters would hold 1.5×size bytes.
 */
export function bytesValue(flag: string, value: string, size: number): Uint8Array {
  const digits = value.replace(/^0x/i, '');
  if (HEX.test(digits) && digits.length === 2 * size) return Buffer.from(digits, 'hex');
  if (BASE64.test(value) && value.length % 4 === 0) {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length === size && bytes.toString('base64') === value) return bytes;
  }
  throw new CliInputError(
    'USAGE',
    `${flag}: expected ${size} bytes as ${2 * size} hex digits or ${4 * Math.ceil(size / 3)} base64 characters, got "${value}"`,
  );
}

/** A number of at most `bits` bits, decimal or 0x hex. */
export function unsignedValue(flag: string, value: string, bits = 64): bigint {
  if (!/^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/i.test(value))
    throw new CliInputError(
      'USAGE',
      `${flag}: expected a ${bits}-bit number (decimal or 0x…), got "${value}"`,
    );
  const n = BigInt(value);
  if (n >> BigInt(bits) !== 0n)
    throw new CliInputError('USAGE', `${flag}: ${value} does not fit ${bits} bits`);
  return n;
}
