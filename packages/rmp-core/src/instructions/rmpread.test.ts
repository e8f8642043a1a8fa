import { describe, expect, it } from 'vitest';
import { NPF_PRIVATE_RMP } from '../access.js';
import { RmpReadRet } from '../returnCodes.js';
import { RmpTable } from '../table.js';
import { entry, GUEST, privateState, smallHost } from '../test/fixtures.js';
import { pvalidate } from './pvalidate.js';
import { rmpadjust } from './rmpadjust.js';
import { rmpquery } from './rmpquery.js';
import { emptyRmpReadOutput, encodeRmpReadOutput, rmpread } from './rmpread.js';
import { rmpupdate } from './rmpupdate.js';

describe(rmpread, () => {
  it('reads the architectural view of an entry, and encodes it as RMPREAD stores it', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x1234_5000, { asid: 0x3ff, immutable: true }));
    const out = emptyRmpReadOutput();

    expect(rmpread(table, 0x200, out)).toBe(RmpReadRet.SUCCESS);
    expect(Buffer.from(encodeRmpReadOutput(out)).toString('hex')).toBe(
      '0050341200000000' + '01000100' + 'ff030000',
    );
  });

  it('sets the 2MB region status on an aligned pfn when another page of the region is assigned', () => {
    const table = smallHost();
    rmpupdate(table, 0x3ff, privateState(0x1000));
    const out = emptyRmpReadOutput();

    rmpread(table, 0x200, out);

    expect(out).toMatchObject({ assigned: false, hpageRegionStatus: true });
  });

  it('fails with FAIL_INPUT for a pfn the RMP does not cover', () => {
    expect(rmpread(smallHost(), 4096, emptyRmpReadOutput())).toBe(RmpReadRet.FAIL_INPUT);
  });

  it('starts from an all-zero output: a hypervisor-owned 4K page', () => {
    expect(emptyRmpReadOutput()).toEqual({
      gpa: 0,
      assigned: false,
      pageSize: '4K',
      hpageRegionStatus: false,
      immutable: false,
      asid: 0,
    });
  });

  it('reads a 2M page: page size 2M on every page, byte 9 bit 0 set', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x40_0000, { pageSize: '2M' }));
    const out = emptyRmpReadOutput();

    rmpread(table, 0x3ff, out);

    expect(out).toEqual({
      gpa: 0x40_0000 + 511 * 4096,
      assigned: true,
      pageSize: '2M',
      hpageRegionStatus: false,
      immutable: false,
      asid: 1,
    });
    expect(encodeRmpReadOutput(out)[9]).toBe(0b01);
  });

  it('encodes pagesize and hpage_region_status as bits 0 and 1 of byte 9', () => {
    const out = { ...emptyRmpReadOutput(), pageSize: '2M' as const, hpageRegionStatus: true };

    expect(encodeRmpReadOutput(out)[9]).toBe(0b11);
    expect(encodeRmpReadOutput({ ...out, pageSize: '4K' })[9]).toBe(0b10);
    expect(encodeRmpReadOutput(emptyRmpReadOutput())).toEqual(new Uint8Array(16));
  });

  it('overwrites every field of a reused output', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x40_0000, { pageSize: '2M', immutable: true }));
    rmpupdate(table, 0x1ff, privateState(0x1000));
    const out = emptyRmpReadOutput();
    rmpread(table, 0x200, out);

    rmpread(table, 0x1ff, out);

    expect(out).toEqual({
      gpa: 0x1000,
      assigned: true,
      pageSize: '4K',
      hpageRegionStatus: false,
      immutable: false,
      asid: 1,
    });
  });

  it('clears the 2MB region status on an aligned pfn whose region has no other assigned page', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x1000));
    rmpupdate(table, 0x400, privateState(0x2000)); // the next region
    const out = emptyRmpReadOutput();

    rmpread(table, 0x200, out);

    expect(out).toMatchObject({ assigned: true, hpageRegionStatus: false });
  });

  it('sets the 2MB region status only on the 2M-aligned pfn', () => {
    const table = smallHost();
    rmpupdate(table, 0x3ff, privateState(0x1000));
    const out = emptyRmpReadOutput();

    rmpread(table, 0x201, out);

    expect(out.hpageRegionStatus).toBe(false);
  });

  it('reads the region status of a last region the host only partly covers', () => {
    const table = RmpTable.create(0x300);
    table.write(0x2ff, entry({ assigned: true, asid: 1 }));
    const out = emptyRmpReadOutput();

    expect(rmpread(table, 0x200, out)).toBe(RmpReadRet.SUCCESS);
    expect(out.hpageRegionStatus).toBe(true);
  });
});

describe(rmpquery, () => {
  it('returns the permission mask of a VMPL on the guest page', () => {
    const table = smallHost();
    rmpupdate(table, 0x10, privateState(0x5000));

    expect(rmpquery(table, GUEST, { pfn: 0x10, gpa: 0x5000, targetVmpl: 0 })).toEqual({
      kind: 'ret',
      ret: RmpReadRet.SUCCESS,
      perms: 0x1f,
      vmsa: false,
      pageSize: '4K',
    });
    expect(rmpquery(table, GUEST, { pfn: 0x10, gpa: 0x5000, targetVmpl: 1 })).toMatchObject({ perms: 0 });
  });

  it('takes #NPF on a page the guest does not own', () => {
    expect(rmpquery(smallHost(), GUEST, { pfn: 0x10, gpa: 0x5000, targetVmpl: 1 })).toMatchObject({
      kind: 'NPF',
      check: 'Guest-Owned',
    });
  });

  it.each([4, -1, 1.5])('fails with FAIL_INPUT for target VMPL %s', (targetVmpl) => {
    const table = smallHost();
    rmpupdate(table, 0x10, privateState(0x5000));

    expect(rmpquery(table, GUEST, { pfn: 0x10, gpa: 0x5000, targetVmpl })).toEqual({
      kind: 'ret',
      ret: RmpReadRet.FAIL_INPUT,
    });
  });

  it('fails with FAIL_PERMISSION for a target more privileged than the caller', () => {
    const table = smallHost();
    rmpupdate(table, 0x10, privateState(0x5000));

    expect(rmpquery(table, { asid: 1, vmpl: 2 }, { pfn: 0x10, gpa: 0x5000, targetVmpl: 1 })).toEqual({
      kind: 'ret',
      ret: RmpReadRet.FAIL_PERMISSION,
    });
    expect(rmpquery(table, { asid: 1, vmpl: 2 }, { pfn: 0x10, gpa: 0x5000, targetVmpl: 2 })).toMatchObject({
      ret: RmpReadRet.SUCCESS,
    });
  });

  it('returns the mask RMPADJUST set for VMPL3, the VMSA bit and the 2M page size', () => {
    const table = smallHost();
    rmpupdate(table, 0x200, privateState(0x20_0000, { pageSize: '2M' }));
    const operand = { pfn: 0x200, gpa: 0x20_0000, pageSize: '2M' as const };
    pvalidate(table, GUEST, { ...operand, validate: true });
    rmpadjust(table, GUEST, { ...operand, targetVmpl: 3, perms: 0x15, vmsa: true });

    expect(rmpquery(table, GUEST, { pfn: 0x234, gpa: 0x23_4000, targetVmpl: 3 })).toEqual({
      kind: 'ret',
      ret: RmpReadRet.SUCCESS,
      perms: 0x15,
      vmsa: true,
      pageSize: '2M',
    });
  });

  it('takes #NPF with the private-access EXITINFO1 for a gpa the page is not assigned at', () => {
    const table = smallHost();
    rmpupdate(table, 0x10, privateState(0x5000));

    expect(rmpquery(table, GUEST, { pfn: 0x10, gpa: 0x6000, targetVmpl: 1 })).toEqual({
      kind: 'NPF',
      check: 'Reverse-Map',
      exitCode: 0x400,
      exitInfo1: NPF_PRIVATE_RMP,
    });
  });
});
