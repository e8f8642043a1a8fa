import { describe, expect, it } from 'vitest';
import { PsmashRet } from '../returnCodes.js';
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
});
