import { describe, expect, it } from 'vitest';
import { RmpUpdateRet } from '../returnCodes.js';
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
});
