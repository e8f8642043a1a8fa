import { describe, expect, it } from 'vitest';
import { NPF_PRIVATE_RMP } from '../access.js';
import { VmplPerm } from '../layout.js';
import { RmpAdjustRet } from '../returnCodes.js';
import { GUEST, privateState, smallHost, snapshot } from '../test/fixtures.js';
import { pvalidate } from './pvalidate.js';
import { rmpadjust } from './rmpadjust.js';
import { rmpupdate } from './rmpupdate.js';

const page = { pfn: 0x10, gpa: 0x5000, pageSize: '4K' as const };
const READ_WRITE = VmplPerm.READ | VmplPerm.WRITE;

function validatedPage() {
  const table = smallHost();
  rmpupdate(table, 0x10, privateState(0x5000));
  pvalidate(table, GUEST, { ...page, validate: true });
  return table;
}

describe(rmpadjust, () => {
  it('lets VMPL0 grant VMPL1 permissions and mark the page as a VMSA', () => {
    const table = validatedPage();

    const outcome = rmpadjust(table, GUEST, { ...page, targetVmpl: 1, perms: READ_WRITE, vmsa: true });

    expect(outcome).toEqual({ kind: 'ret', ret: RmpAdjustRet.SUCCESS });
    expect(table.read(0x10)).toMatchObject({ vmsa: true, vmplPerms: [READ_WRITE, 0, 0] });
  });

  it('refuses a target that is not less privileged than the caller', () => {
    const table = validatedPage();

    expect(rmpadjust(table, GUEST, { ...page, targetVmpl: 0, perms: 0, vmsa: false })).toEqual({
      kind: 'ret',
      ret: RmpAdjustRet.FAIL_PERMISSION,
    });
  });

  it('refuses to grant a permission the calling VMPL lacks, and ignores its VMSA request', () => {
    const table = validatedPage();
    rmpadjust(table, GUEST, { ...page, targetVmpl: 1, perms: VmplPerm.READ, vmsa: false });
    const vmpl1 = { asid: 1, vmpl: 1 } as const;

    expect(rmpadjust(table, vmpl1, { ...page, targetVmpl: 2, perms: READ_WRITE, vmsa: false })).toEqual({
      kind: 'ret',
      ret: RmpAdjustRet.FAIL_PERMISSION,
    });
    expect(rmpadjust(table, vmpl1, { ...page, targetVmpl: 2, perms: VmplPerm.READ, vmsa: true })).toEqual({
      kind: 'ret',
      ret: RmpAdjustRet.SUCCESS,
    });
    expect(table.read(0x10)).toMatchObject({ vmsa: false, vmplPerms: [VmplPerm.READ, VmplPerm.READ, 0] });
  });

  it('raises #VC on a page the guest has not validated', () => {
    const table = smallHost();
    rmpupdate(table, 0x10, privateState(0x5000));

    expect(rmpadjust(table, GUEST, { ...page, targetVmpl: 1, perms: 1, vmsa: false })).toMatchObject({
      kind: '#VC',
      errorCode: 0x404,
    });
  });

  it('fails with FAIL_INPUT for reserved permission bits or a target above VMPL3', () => {
    const table = validatedPage();

    expect(rmpadjust(table, GUEST, { ...page, targetVmpl: 1, perms: 0x20, vmsa: false })).toMatchObject({
      ret: RmpAdjustRet.FAIL_INPUT,
    });
    expect(rmpadjust(table, GUEST, { ...page, targetVmpl: 4, perms: 0, vmsa: false })).toMatchObject({
      ret: RmpAdjustRet.FAIL_INPUT,
    });
  });

  it.each([
    ['a fractional target VMPL', { targetVmpl: 1.5, perms: VmplPerm.READ }],
    ['a negative target VMPL', { targetVmpl: -1, perms: VmplPerm.READ }],
    ['a fractional permission mask', { targetVmpl: 1, perms: 1.5 }],
    ['a negative permission mask', { targetVmpl: 1, perms: -1 }],
  ])('fails with FAIL_INPUT for %s, changing nothing', (_name, fields) => {
    const table = validatedPage();
    const before = snapshot(table);

    expect(rmpadjust(table, GUEST, { ...page, vmsa: false, ...fields })).toEqual({
      kind: 'ret',
      ret: RmpAdjustRet.FAIL_INPUT,
    });
    expect(snapshot(table)).toEqual(before);
  });

  it('accepts VMPL3 as a target and every permission bit (mask 0x1f) from VMPL0', () => {
    const table = validatedPage();

    expect(rmpadjust(table, GUEST, { ...page, targetVmpl: 3, perms: 0x1f, vmsa: false })).toEqual({
      kind: 'ret',
      ret: RmpAdjustRet.SUCCESS,
    });
    expect(table.read(0x10).vmplPerms).toEqual([0, 0, 0x1f]);
  });

  it('changes only the operand page of a 4K RMPADJUST', () => {
    const table = validatedPage();

    rmpadjust(table, GUEST, { ...page, targetVmpl: 1, perms: READ_WRITE, vmsa: false });

    expect(snapshot(table).map(([pfn]) => pfn)).toEqual([0x10]);
  });

  it('fails with FAIL_INPUT for a 2M operand whose gpa is not 2M aligned; over a misaligned pfn it is the RMP that refuses', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x20_0000, { pageSize: '2M' }));
    pvalidate(table, GUEST, { pfn: 0x200, gpa: 0x20_0000, pageSize: '2M', validate: true });
    rmpupdate(table, 0x10, privateState(0x40_0000));
    const adjust = { targetVmpl: 1, perms: VmplPerm.READ, vmsa: false, pageSize: '2M' as const };
    const before = snapshot(table);

    expect(rmpadjust(table, GUEST, { ...adjust, pfn: 0x200, gpa: 0x20_1000 })).toEqual({
      kind: 'ret',
      ret: RmpAdjustRet.FAIL_INPUT,
    });
    // the entry of pfn 0x201 maps gpa 0x201000: the reverse-map check fails
    expect(rmpadjust(table, GUEST, { ...adjust, pfn: 0x201, gpa: 0x20_0000 })).toMatchObject({
      kind: 'NPF',
      check: 'Reverse-Map',
    });
    expect(rmpadjust(table, GUEST, { ...adjust, pfn: 0x10, gpa: 0x40_0000 })).toEqual({
      kind: 'ret',
      ret: RmpAdjustRet.FAIL_SIZEMISMATCH,
    });
    expect(snapshot(table)).toEqual(before);
  });

  it('sets the permissions of all 512 entries of a 2M page', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x20_0000, { pageSize: '2M' }));
    pvalidate(table, GUEST, { pfn: 0x200, gpa: 0x20_0000, pageSize: '2M', validate: true });

    const outcome = rmpadjust(table, GUEST, {
      pfn: 0x200,
      gpa: 0x20_0000,
      pageSize: '2M',
      targetVmpl: 1,
      perms: READ_WRITE,
      vmsa: false,
    });

    expect(outcome).toEqual({ kind: 'ret', ret: RmpAdjustRet.SUCCESS });
    const pages = snapshot(table);
    expect(pages.map(([pfn]) => pfn)).toEqual(Array.from({ length: 512 }, (_, i) => 0x200 + i));
    expect(pages.every(([, e]) => e.vmplPerms[0] === READ_WRITE)).toBe(true);
  });

  it('fails with FAIL_SIZEMISMATCH for a 2M operand over 4K entries (APM vol. 2 Table 15-40)', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x20_0000));
    pvalidate(table, GUEST, { pfn: 0x200, gpa: 0x20_0000, pageSize: '4K', validate: true });

    expect(
      rmpadjust(table, GUEST, {
        pfn: 0x200,
        gpa: 0x20_0000,
        pageSize: '2M',
        targetVmpl: 1,
        perms: 1,
        vmsa: false,
      }),
    ).toEqual({ kind: 'ret', ret: RmpAdjustRet.FAIL_SIZEMISMATCH });
  });

  it('takes #NPF on a page the guest does not own, before the validated check', () => {
    const table = smallHost();
    rmpupdate(table, 0x10, privateState(0x5000, { asid: 2 }));

    expect(rmpadjust(table, GUEST, { ...page, targetVmpl: 1, perms: 1, vmsa: false })).toEqual({
      kind: 'NPF',
      check: 'Guest-Owned',
      exitCode: 0x400,
      exitInfo1: NPF_PRIVATE_RMP,
    });
  });

  it('raises #VC for the Validated check with error code 0x404', () => {
    const table = smallHost();
    rmpupdate(table, 0x10, privateState(0x5000));

    expect(rmpadjust(table, GUEST, { ...page, targetVmpl: 1, perms: 1, vmsa: false })).toEqual({
      kind: '#VC',
      check: 'Validated',
      errorCode: 0x404,
    });
  });
});
