import { describe, expect, it } from 'vitest';
import { VmplPerm } from '../layout.js';
import { RmpAdjustRet } from '../returnCodes.js';
import { GUEST, privateState, smallHost } from '../test/fixtures.js';
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
});
