import { describe, expect, it } from 'vitest';
import { decodeRmpEntry, encodeRmpEntry, HYPERVISOR_OWNED } from './entry.js';
import {
  RmpError,
  RmpFieldRangeError,
  RmpLengthError,
  RmpPfnRangeError,
  RmpReservedBitsError,
} from './errors.js';
import { RmpTable } from './table.js';

/** The error `f` throws (the test fails if it throws none). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe(RmpError, () => {
  it.each([
    [
      'a field the entry cannot hold',
      () => encodeRmpEntry({ ...HYPERVISOR_OWNED, asid: 1024 }),
      RmpFieldRangeError,
      'RMP_FIELD_RANGE',
      'RMP entry field asid: expected an integer in [0, 1023], got 0x400',
    ],
    [
      'reserved bits set',
      () => decodeRmpEntry(Uint8Array.of(0x08, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0)),
      RmpReservedBitsError,
      'RMP_RESERVED_BITS',
      'RMP entry sets reserved bit(s) 3, 63: reserved bits must be 0',
    ],
    [
      'a buffer of the wrong length',
      () => decodeRmpEntry(new Uint8Array(17)),
      RmpLengthError,
      'RMP_BAD_LENGTH',
      'RMP entry: expected 16 bytes, got 17',
    ],
    [
      'a pfn beyond the host',
      () => RmpTable.create(4096).read(4096),
      RmpPfnRangeError,
      'RMP_PFN_RANGE',
      'pfn 0x1000: expected an integer in [0, 0x1000) (host has 4096 pages)',
    ],
  ])('reports %s as an RmpError with its code and message', (_name, f, type, code, message) => {
    const e = thrown(f);

    expect(e).toBeInstanceOf(type);
    expect(e).toBeInstanceOf(RmpError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'RmpError', code, message });
  });

  it('keeps the offending field and value, and the pfn and host size, on the error', () => {
    expect(thrown(() => encodeRmpEntry({ ...HYPERVISOR_OWNED, gpa: 0x1234 }))).toMatchObject({
      field: 'gpa',
      value: 0x1234,
    });
    expect(thrown(() => RmpTable.create(16).write(-1, HYPERVISOR_OWNED))).toMatchObject({
      pfn: -1,
      hostPages: 16,
    });
  });

  it.each([
    [0, '0x0'],
    [0x1f, '0x1f'],
    [2 ** 53 - 1, '0x1fffffffffffff'],
    [-1, '-1'],
    [1.5, '1.5'],
    [2 ** 53, '9007199254740992'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
  ])('prints value %s as %s: hex for a safe non-negative integer, else in decimal', (value, printed) => {
    expect(new RmpFieldRangeError('asid', value, 'an integer').message).toBe(
      `RMP entry field asid: expected an integer, got ${printed}`,
    );
    expect(new RmpPfnRangeError(value, 16).message).toBe(
      `pfn ${printed}: expected an integer in [0, 0x10) (host has 16 pages)`,
    );
  });
});
