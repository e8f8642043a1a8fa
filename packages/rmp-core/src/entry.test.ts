import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRmpEntry, encodeRmpEntry, HYPERVISOR_OWNED, type RmpEntry } from './entry.js';
import { RmpFieldRangeError, RmpLengthError, RmpReservedBitsError } from './errors.js';
import { RESERVED_MASKS } from './layout.js';
import { anyEntry } from './test/arbitraries.js';

const entry = (fields: Partial<RmpEntry>): RmpEntry => ({ ...HYPERVISOR_OWNED, ...fields });
const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
/** The reserved bits decoding complains about; [] when it accepts the bytes. */
function reservedBitsOf(bytes: Uint8Array): readonly number[] {
  try {
    decodeRmpEntry(bytes);
    return [];
  } catch (e) {
    if (e instanceof RmpReservedBitsError) return e.bits;
    throw e;
  }
}

describe('RMP entry codec', () => {
  it.each([
    ['assigned (bit 0)', { assigned: true }, '01000000000000000000000000000000'],
    ['pagesize 2M (bit 1)', { pageSize: '2M' as const }, '02000000000000000000000000000000'],
    ['immutable (bit 2)', { immutable: true }, '04000000000000000000000000000000'],
    ['gpa 0x1000 (bit 12)', { gpa: 0x1000 }, '00100000000000000000000000000000'],
    [
      'gpa 2^50 (bit 62 - 12 = top of the 39-bit field)',
      { gpa: 2 ** 50 },
      '00000000000004000000000000000000',
    ],
    ['asid 1 (bit 51)', { asid: 1 }, '00000000000008000000000000000000'],
    ['asid 0x3ff (bits 60:51)', { asid: 0x3ff }, '000000000000f81f0000000000000000'],
    ['vmsa (bit 61)', { vmsa: true }, '00000000000000200000000000000000'],
    ['validated (bit 62)', { validated: true }, '00000000000000400000000000000000'],
    [
      'vmpl1..3 perms (bytes 9..11)',
      { vmplPerms: [0x1f, 0x01, 0x10] as const },
      '0000000000000000001f011000000000',
    ],
  ])('encodes %s at its bit position', (_name, fields, expected) => {
    expect(hexOf(encodeRmpEntry(entry(fields)))).toBe(expected);
  });

  it('decodes what it encodes, for every entry the layout can hold', () => {
    fc.assert(
      fc.property(anyEntry, (e) => {
        expect(decodeRmpEntry(encodeRmpEntry(e))).toEqual(e);
      }),
    );
  });

  it('encodes what it decodes, for every 16-byte pattern with reserved bits clear', () => {
    const bytesWithoutReserved = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => {
      const view = new DataView(bytes.buffer);
      RESERVED_MASKS.forEach((mask, i) => {
        view.setUint32(4 * i, view.getUint32(4 * i, true) & ~mask, true);
      });
      return bytes;
    });
    fc.assert(
      fc.property(bytesWithoutReserved, (b) => {
        expect(hexOf(encodeRmpEntry(decodeRmpEntry(b)))).toBe(hexOf(b));
      }),
    );
  });

  it.each([
    [
      'gpa not 4 KiB aligned',
      { gpa: 0x1234 },
      /field gpa: expected a 4 KiB aligned address below 2\^51, got 0x1234/,
    ],
    ['gpa beyond the 39-bit gfn', { gpa: 2 ** 51 }, /field gpa/],
    [
      'negative gpa',
      { gpa: -4096 },
      'RMP entry field gpa: expected a 4 KiB aligned address below 2^51, got -4096',
    ],
    ['fractional gpa', { gpa: 4096.5 }, /field gpa: .*, got 4096\.5$/],
    ['asid above 1023', { asid: 1024 }, /field asid: expected an integer in \[0, 1023\], got 0x400/],
    ['negative asid', { asid: -1 }, /field asid/],
    ['reserved permission bits', { vmplPerms: [0x20, 0, 0] as const }, /field vmpl1_perms/],
  ])('refuses %s with RMP_FIELD_RANGE', (_name, fields, message) => {
    const encode = () => encodeRmpEntry(entry(fields));

    expect(encode).toThrow(RmpFieldRangeError);
    expect(encode).toThrow(message);
  });

  it('names every reserved bit that is set when decoding', () => {
    const bytes = new Uint8Array(16);
    bytes[0] = 0x08; // bit 3, rsvd1
    bytes[7] = 0x80; // bit 63, rsvd2
    bytes[15] = 0x01; // bit 120, high qword

    expect(() => decodeRmpEntry(bytes)).toThrow(new RmpReservedBitsError([3, 63, 120]));
  });

  it('refuses a buffer that is not 16 bytes', () => {
    expect(() => decodeRmpEntry(new Uint8Array(15))).toThrow(RmpLengthError);
    expect(() => decodeRmpEntry(new Uint8Array(15))).toThrow('RMP entry: expected 16 bytes, got 15');
  });

  it.each([
    ['bit 64, the VMPL0 byte of the high qword', 8, 0x01, [64]],
    ['bit 63 (rsvd2)', 7, 0x80, [63]],
    ['bit 96, the first of the unused top word', 12, 0x01, [96]],
    ['bit 127, the last of the entry', 15, 0x80, [127]],
    ['no bit for bit 31 (gpa bit 31)', 3, 0x80, []],
    ['no bit for bit 32 (gpa bit 32)', 4, 0x01, []],
  ])('names reserved %s', (_name, byte, value, bits) => {
    const bytes = new Uint8Array(16);
    bytes[byte] = value;

    expect(reservedBitsOf(bytes)).toEqual(bits);
  });

  it('lists every reserved bit set in a word with all of them set', () => {
    const bytes = new Uint8Array(16);
    bytes.fill(0xff, 12, 16);

    expect(() => decodeRmpEntry(bytes)).toThrow(
      new RmpReservedBitsError(Array.from({ length: 32 }, (_, i) => 96 + i)),
    );
  });
});
