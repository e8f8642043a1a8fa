import { describe, expect, it } from 'vitest';
import { RmpUpdateRet } from '../returnCodes.js';
import { RmpTable } from '../table.js';
import { entry, GUEST, privateState, smallHost, snapshot } from '../test/fixtures.js';
import { pvalidate } from './pvalidate.js';
import { hypervisorState, rmpupdate } from './rmpupdate.js';

describe(rmpupdate, () => {
  it('assigns a page: assigned, asid, gpa, immutable as given; not validated', () => {
    const table = smallHost();

    const ret = rmpupdate(table, 0x10, privateState(0x5000, { immutable: true }));

    expect(ret).toBe(RmpUpdateRet.SUCCESS);
    expect(table.read(0x10)).toEqual(entry({ assigned: true, asid: 1, gpa: 0x5000, immutable: true }));
  });

  it('clears Validated, VMSA and VMPL permissions of a page the guest validated (review point 3)', () => {
    const table = smallHost();
    table.write(
      0x10,
      entry({ assigned: true, asid: 1, gpa: 0x5000, validated: true, vmsa: true, vmplPerms: [0xf, 1, 1] }),
    );

    const ret = rmpupdate(table, 0x10, privateState(0x5000));

    expect(ret).toBe(RmpUpdateRet.SUCCESS);
    expect(table.read(0x10)).toEqual(entry({ assigned: true, asid: 1, gpa: 0x5000 }));
  });

  it('may reassign a guest page to another guest at any time', () => {
    const table = smallHost();
    rmpupdate(table, 0x10, privateState(0x5000));

    const ret = rmpupdate(table, 0x10, privateState(0x9000, { asid: 2 }));

    expect(ret).toBe(RmpUpdateRet.SUCCESS);
    expect(table.read(0x10)).toMatchObject({ asid: 2, gpa: 0x9000 });
  });

  it('fails with FAIL_PERMISSION on an immutable entry and changes nothing', () => {
    const table = smallHost();
    rmpupdate(table, 0x10, privateState(0, { asid: 0, immutable: true }));
    const before = snapshot(table);

    expect(rmpupdate(table, 0x10, hypervisorState())).toBe(RmpUpdateRet.FAIL_PERMISSION);
    expect(snapshot(table)).toEqual(before);
  });

  it.each([
    ['a pfn the RMP does not cover', 4096, privateState(0)],
    ['a gpa that is not 4 KiB aligned', 0x10, privateState(0x1001)],
    ['an asid wider than the field', 0x10, privateState(0, { asid: 1024 })],
    ['an unassigned state with an asid', 0x10, { ...hypervisorState(), asid: 3 }],
    [
      'an assigned state with ASID 0 that is not immutable (no owner encoding)',
      0x10,
      privateState(0, { asid: 0 }),
    ],
    ['a 2M state at a pfn that is not 2M aligned', 0x201, privateState(0, { pageSize: '2M' })],
    ['a 2M state at a gpa that is not 2M aligned', 0x200, privateState(0x1000, { pageSize: '2M' })],
    ['a negative gpa', 0x10, privateState(-0x1000)],
    ['a gpa of 2^51, beyond the 39-bit gfn field', 0x10, privateState(2 ** 51)],
    ['a gpa that is not an integer', 0x10, privateState(4096.5)],
    ['a negative asid', 0x10, privateState(0, { asid: -1 })],
    ['a fractional asid', 0x10, privateState(0, { asid: 1.5 })],
    ['a page size that is neither 4K nor 2M', 0x200, privateState(0, { pageSize: '1G' as '2M' })],
  ])('fails with FAIL_INPUT for %s', (_name, pfn, state) => {
    const table = smallHost();

    expect(rmpupdate(table, pfn, state)).toBe(RmpUpdateRet.FAIL_INPUT);
    expect(snapshot(table)).toEqual([]);
  });

  it('writes a 2M page to all 512 entries with consecutive gpas', () => {
    const table = smallHost();

    expect(rmpupdate(table, 0x200, privateState(0x40_0000, { pageSize: '2M' }))).toBe(RmpUpdateRet.SUCCESS);

    const pages = snapshot(table);
    expect(pages).toHaveLength(512);
    expect(pages[511]).toEqual([
      0x3ff,
      entry({ assigned: true, asid: 1, pageSize: '2M', gpa: 0x40_0000 + 511 * 4096 }),
    ]);
  });

  it('fails with FAIL_OVERLAP for a 4K update inside an assigned 2M page', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0, { pageSize: '2M' }));

    expect(rmpupdate(table, 0x234, hypervisorState())).toBe(RmpUpdateRet.FAIL_OVERLAP);
  });

  it('fails with FAIL_OVERLAP for a 2M update over an assigned 4K page', () => {
    const table = smallHost();
    rmpupdate(table, 0x234, privateState(0x1000));
    const before = snapshot(table);

    expect(rmpupdate(table, 0x200, privateState(0, { pageSize: '2M' }))).toBe(RmpUpdateRet.FAIL_OVERLAP);
    expect(snapshot(table)).toEqual(before);
  });

  it('replaces a 2M page with another 2M state', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0, { pageSize: '2M' }));
    pvalidate(table, GUEST, { pfn: 0x200, gpa: 0, pageSize: '2M', validate: true });

    expect(rmpupdate(table, 0x200, hypervisorState('2M'))).toBe(RmpUpdateRet.SUCCESS);
    expect(table.read(0x3ff)).toEqual(entry({ pageSize: '2M' }));
  });

  it('accepts the largest gpa and asid the entry can hold', () => {
    const table = smallHost();

    expect(rmpupdate(table, 0x10, privateState(2 ** 51 - 4096, { asid: 1023 }))).toBe(RmpUpdateRet.SUCCESS);
    expect(table.read(0x10)).toEqual(entry({ assigned: true, asid: 1023, gpa: 2 ** 51 - 4096 }));
  });

  it('writes a 2M page in the last 2M region of the host', () => {
    const table = smallHost();

    expect(rmpupdate(table, 0xe00, privateState(0, { pageSize: '2M' }))).toBe(RmpUpdateRet.SUCCESS);
    expect(table.read(0xfff)).toEqual(entry({ assigned: true, asid: 1, pageSize: '2M', gpa: 511 * 4096 }));
  });

  it('fails with FAIL_INPUT for a 2M state whose 512 pages run past the end of the host', () => {
    const table = RmpTable.create(0x300); // the region at 0x200 has only 256 pages

    expect(rmpupdate(table, 0x200, privateState(0, { pageSize: '2M' }))).toBe(RmpUpdateRet.FAIL_INPUT);
    expect(rmpupdate(table, 0x200, hypervisorState('2M'))).toBe(RmpUpdateRet.FAIL_INPUT);
    expect(snapshot(table)).toEqual([]);
  });

  it('fails with FAIL_PERMISSION for a 2M update over an immutable page anywhere in the range', () => {
    const table = smallHost();
    rmpupdate(table, 0x2a0, privateState(0, { asid: 0, immutable: true })); // a firmware page
    const before = snapshot(table);

    expect(rmpupdate(table, 0x200, privateState(0x20_0000, { pageSize: '2M' }))).toBe(
      RmpUpdateRet.FAIL_PERMISSION,
    );
    expect(rmpupdate(table, 0x200, hypervisorState('2M'))).toBe(RmpUpdateRet.FAIL_PERMISSION);
    expect(snapshot(table)).toEqual(before);
  });

  it('fails with FAIL_PERMISSION to replace an immutable 2M page (a launched 2M guest page)', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x20_0000, { pageSize: '2M', immutable: true }));
    const before = snapshot(table);

    expect(rmpupdate(table, 0x200, hypervisorState('2M'))).toBe(RmpUpdateRet.FAIL_PERMISSION);
    expect(snapshot(table)).toEqual(before);
  });

  it('updates a 4K page just below a 2M page without touching it', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0, { pageSize: '2M' }));

    expect(rmpupdate(table, 0x1ff, privateState(0x1000))).toBe(RmpUpdateRet.SUCCESS);
    expect(table.read(0x1ff)).toEqual(entry({ assigned: true, asid: 1, gpa: 0x1000 }));
  });

  it('assigns a 2M page again after a 2M reset, whatever the next region holds', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x20_0000, { pageSize: '2M' }));
    rmpupdate(table, 0x200, hypervisorState('2M')); // 512 entries left with page size 2M
    rmpupdate(table, 0x400, privateState(0x1000)); // first page of the next region

    expect(rmpupdate(table, 0x200, privateState(0x20_0000, { pageSize: '2M', asid: 2 }))).toBe(
      RmpUpdateRet.SUCCESS,
    );
    expect(table.read(0x3ff)).toEqual(entry({ assigned: true, asid: 2, pageSize: '2M', gpa: 0x3f_f000 }));
  });
});
