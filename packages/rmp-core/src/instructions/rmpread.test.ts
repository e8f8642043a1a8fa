import { describe, expect, it } from 'vitest';
import { RmpReadRet } from '../returnCodes.js';
import { GUEST, privateState, smallHost } from '../test/fixtures.js';
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
});
