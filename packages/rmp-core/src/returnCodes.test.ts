import { describe, expect, it } from 'vitest';
import {
  codeByName,
  codeName,
  Errno,
  PsmashRet,
  PvalidateRet,
  RmpAdjustRet,
  RmpReadRet,
  RmpUpdateRet,
} from './returnCodes.js';

const tables = { RmpUpdateRet, PsmashRet, PvalidateRet, RmpReadRet, RmpAdjustRet, Errno };

describe(codeName, () => {
  it.each([
    [RmpUpdateRet, 4, 'FAIL_OVERLAP'],
    [PsmashRet, 7, 'FAIL_BADADDR'],
    [PvalidateRet, 6, 'FAIL_SIZEMISMATCH'],
    [PvalidateRet, 255, 'FAIL_NOUPDATE'],
    [Errno, 16, 'EBUSY'],
  ])('names a code of its table', (codes, code, name) => {
    expect(codeName(codes, code)).toBe(name);
  });

  it('prints a code its table does not name in hex', () => {
    expect(codeName(RmpUpdateRet, 5)).toBe('0x5');
    expect(codeName(PsmashRet, 4)).toBe('0x4');
    expect(codeName(RmpReadRet, 0xdead)).toBe('0xdead');
  });

  it('names codes by the table asked, even where two tables share a value', () => {
    expect(codeName(PsmashRet, 3)).toBe('FAIL_INUSE');
    expect(codeName(PvalidateRet, 3)).toBe('0x3');
    expect(codeName(PsmashRet, 3)).toBe('FAIL_INUSE');
  });

  it('is the inverse of codeByName on every code table', () => {
    for (const codes of Object.values(tables)) {
      for (const [name, code] of Object.entries(codes)) {
        expect(codeName(codes, code)).toBe(name);
        expect(codeByName(codes, name)).toBe(code);
      }
    }
  });
});

describe(codeByName, () => {
  it('looks a name up, and gives undefined for a name the table lacks, inherited ones included', () => {
    expect(codeByName(RmpUpdateRet, 'FAIL_INUSE')).toBe(3);
    expect(codeByName(Errno, 'EINVAL')).toBe(22);
    expect(codeByName(RmpUpdateRet, 'EBUSY')).toBeUndefined();
    expect(codeByName(RmpUpdateRet, 'toString')).toBeUndefined();
    expect(codeByName(RmpUpdateRet, 'fail_inuse')).toBeUndefined();
  });
});
