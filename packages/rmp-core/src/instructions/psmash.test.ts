import { describe, expect, it } from 'vitest';
import { PsmashRet } from '../returnCodes.js';
import { RmpTable } from '../table.js';
import { entry, GUEST, privateState, smallHost, snapshot } from '../test/fixtures.js';
import { psmash } from './psmash.js';
import { pvalidate } from './pvalidate.js';
import { rmpupdate } from './rmpupdate.js';

describe(psmash, () => {
  it('splits a validated 2M page into 512 4K entries, keeping Validated and the gpas', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x60_0000, { pageSize: '2M' }));
    pvalidate(table, GUEST, { pfn: 0x200, gpa: 0x60_0000, pageSize: '2M', validate: true });

    expect(psmash(table, 0x200)).toBe(PsmashRet.SUCCESS);

    const pages = snapshot(table);
    expect(pages).toHaveLength(512);
    pages.forEach(([pfn, e], i) => {
      expect([pfn, e]).toEqual([
        0x200 + i,
        entry({ assigned: true, asid: 1, gpa: 0x60_0000 + i * 4096, validated: true }),
      ]);
    });
  });

  it('fails with FAIL_INPUT for a pfn that is not 2M aligned', () => {
    expect(psmash(smallHost(), 0x201)).toBe(PsmashRet.FAIL_INPUT);
  });

  it('fails with FAIL_BADADDR when the 2M-aligned entry is not an assigned 2M page', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0));

    expect(psmash(table, 0x200)).toBe(PsmashRet.FAIL_BADADDR);
    expect(table.read(0x200).pageSize).toBe('4K');
  });

  it('splits a 2M page in the last 2M region of the host', () => {
    const table = smallHost();
    rmpupdate(table, 0xe00, privateState(0, { pageSize: '2M' }));

    expect(psmash(table, 0xe00)).toBe(PsmashRet.SUCCESS);
    expect(table.read(0xfff)).toEqual(entry({ assigned: true, asid: 1, gpa: 511 * 4096 }));
  });

  it('fails with FAIL_INPUT for a pfn the RMP does not cover', () => {
    expect(psmash(smallHost(), 4096)).toBe(PsmashRet.FAIL_INPUT);
  });

  it('fails with FAIL_INPUT when the 512 pages would run past the end of the host', () => {
    const table = RmpTable.create(0x300);
    table.write(0x200, entry({ assigned: true, asid: 1, pageSize: '2M' })); // firmware-written, say
    const before = snapshot(table);

    expect(psmash(table, 0x200)).toBe(PsmashRet.FAIL_INPUT);
    expect(snapshot(table)).toEqual(before);
  });
});
