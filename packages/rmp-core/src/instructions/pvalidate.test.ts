import { describe, expect, it } from 'vitest';
import { NPF_PRIVATE_RMP, NpfInfo } from '../access.js';
import { PvalidateRet } from '../returnCodes.js';
import { GUEST, privateState, smallHost, snapshot } from '../test/fixtures.js';
import { pvalidate } from './pvalidate.js';
import { rmpupdate } from './rmpupdate.js';

const validate4K = { pfn: 0x10, gpa: 0x5000, pageSize: '4K' as const, validate: true };

describe(pvalidate, () => {
  it('validates the guest page and reports no update when asked again (CF = 1)', () => {
    const table = smallHost();
    rmpupdate(table, 0x10, privateState(0x5000));

    expect(pvalidate(table, GUEST, validate4K)).toEqual({ kind: 'ret', ret: PvalidateRet.SUCCESS });
    expect(table.read(0x10).validated).toBe(true);
    expect(pvalidate(table, GUEST, validate4K)).toEqual({ kind: 'ret', ret: PvalidateRet.FAIL_NOUPDATE });
  });

  it('rescinds validation', () => {
    const table = smallHost();
    rmpupdate(table, 0x10, privateState(0x5000));
    pvalidate(table, GUEST, validate4K);

    expect(pvalidate(table, GUEST, { ...validate4K, validate: false })).toEqual({
      kind: 'ret',
      ret: PvalidateRet.SUCCESS,
    });
    expect(table.read(0x10).validated).toBe(false);
  });

  it.each([
    ['another ASID owns the page', privateState(0x5000, { asid: 2 }), 'Guest-Owned'],
    ['the page is assigned at another gpa', privateState(0x6000), 'Reverse-Map'],
    [
      'the page is immutable (pre-guest, firmware-owned during launch)',
      privateState(0x5000, { immutable: true }),
      'Mutable',
    ],
  ])('takes #NPF when %s, changing nothing', (_name, state, check) => {
    const table = smallHost();
    rmpupdate(table, 0x10, state);
    const before = snapshot(table);

    expect(pvalidate(table, GUEST, validate4K)).toEqual({
      kind: 'NPF',
      check,
      exitCode: 0x400,
      exitInfo1: NPF_PRIVATE_RMP,
    });
    expect(snapshot(table)).toEqual(before);
  });

  it('takes #NPF with SIZEM for a 4K operand inside a 2M RMP page (the hypervisor must PSMASH)', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x20_0000, { pageSize: '2M' }));

    const outcome = pvalidate(table, GUEST, { pfn: 0x201, gpa: 0x20_1000, pageSize: '4K', validate: true });

    expect(outcome).toMatchObject({
      kind: 'NPF',
      check: 'Page-Size',
      exitInfo1: NPF_PRIVATE_RMP + NpfInfo.SIZEM,
    });
  });

  it('fails with FAIL_SIZEMISMATCH for a 2M operand over 4K entries', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x20_0000));

    expect(pvalidate(table, GUEST, { pfn: 0x200, gpa: 0x20_0000, pageSize: '2M', validate: true })).toEqual({
      kind: 'ret',
      ret: PvalidateRet.FAIL_SIZEMISMATCH,
    });
  });

  it('validates all 512 entries of a 2M page at once', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x20_0000, { pageSize: '2M' }));

    pvalidate(table, GUEST, { pfn: 0x200, gpa: 0x20_0000, pageSize: '2M', validate: true });

    expect(snapshot(table).every(([, e]) => e.validated)).toBe(true);
  });

  it('fails with FAIL_INPUT for an unaligned 2M operand and FAIL_PERMISSION below VMPL0', () => {
    const table = smallHost();
    rmpupdate(table, 0x10, privateState(0x5000));

    expect(pvalidate(table, GUEST, { ...validate4K, pageSize: '2M' })).toEqual({
      kind: 'ret',
      ret: PvalidateRet.FAIL_INPUT,
    });
    // An aligned guest address backed by a 4K page anywhere: the RMP's size mismatch, not bad input.
    rmpupdate(table, 0x11, privateState(0x40_0000));
    expect(pvalidate(table, GUEST, { pfn: 0x11, gpa: 0x40_0000, pageSize: '2M', validate: true })).toEqual({
      kind: 'ret',
      ret: PvalidateRet.FAIL_SIZEMISMATCH,
    });
    expect(pvalidate(table, { asid: 1, vmpl: 1 }, validate4K)).toEqual({
      kind: 'ret',
      ret: PvalidateRet.FAIL_PERMISSION,
    });
  });

  it('validates only the operand page of a 4K PVALIDATE', () => {
    const table = smallHost();
    rmpupdate(table, 0x10, privateState(0x5000));
    rmpupdate(table, 0x11, privateState(0x6000));

    pvalidate(table, GUEST, validate4K);

    expect(snapshot(table).map(([pfn, e]) => [pfn, e.validated])).toEqual([
      [0x10, true],
      [0x11, false],
    ]);
  });
});
