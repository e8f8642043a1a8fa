import { describe, expect, it } from 'vitest';
import { counted, entryJson, entryText, hex } from './format.js';
import { entry } from './test/fixtures.js';

const guestPage = entry({ assigned: true, asid: 5, gpa: 0x2_0000_1000, validated: true });

describe(entryJson, () => {
  it('prints the fields of SCENARIO.md "Result", the gpa in hex, and no permissions when all are 0', () => {
    expect(entryJson(guestPage)).toEqual({
      assigned: true,
      asid: 5,
      gpa: '0x200001000',
      pageSize: '4K',
      immutable: false,
      validated: true,
      vmsa: false,
    });
  });

  it.each([[[0x1f, 0, 0]], [[0, 0x3, 0]], [[0, 0, 0x8]], [[0x1, 0x2, 0x4]]] as const)(
    'adds the VMPL1..3 permission masks %j when any is granted',
    (vmplPerms) => {
      expect(entryJson({ ...guestPage, vmplPerms })).toEqual({ ...entryJson(guestPage), vmplPerms });
    },
  );
});

describe(entryText, () => {
  it('prints one line with every field and no permissions when all are 0', () => {
    expect(entryText({ ...guestPage, pageSize: '2M', immutable: true, vmsa: true })).toBe(
      '[A=1 PS=2M IMM=1 GPA=0x200001000 ASID=5 VMSA=1 V=1]',
    );
  });

  it.each([
    [[0x1f, 0, 0], ' PERMS=1f,0,0'],
    [[0, 0x3, 0], ' PERMS=0,3,0'],
    [[0x1, 0x2, 0x1c], ' PERMS=1,2,1c'],
  ] as const)('appends the VMPL1..3 permission masks %j in hex when any is granted', (vmplPerms, perms) => {
    expect(entryText({ ...guestPage, vmplPerms })).toBe(
      `[A=1 PS=4K IMM=0 GPA=0x200001000 ASID=5 VMSA=0 V=1${perms}]`,
    );
  });
});

describe(hex, () => {
  it('prints any safe integer in lower-case hex with a 0x prefix', () => {
    expect(hex(0)).toBe('0x0');
    expect(hex(0xabc)).toBe('0xabc');
    expect(hex(2 ** 51 - 4096)).toBe('0x7fffffffff000');
  });
});

describe(counted, () => {
  it('says one page, and pages for any other count', () => {
    expect([0, 1, 2].map((n) => counted(n, 'page'))).toEqual(['0 pages', '1 page', '2 pages']);
    expect(counted(1, 'entry', 'entries')).toBe('1 entry');
    expect(counted(3, 'entry', 'entries')).toBe('3 entries');
  });
});
