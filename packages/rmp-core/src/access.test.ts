import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AccessKind,
  checkGuestAccess,
  checkHostAccess,
  type GuestAsidVmpl,
  NPF_PRIVATE_RMP,
  NpfInfo,
  PfError,
} from './access.js';
import type { RmpEntry } from './entry.js';
import { VmplPerm } from './layout.js';
import { RmpTable } from './table.js';
import { anyEntry } from './test/arbitraries.js';
import { entry, GUEST, smallHost } from './test/fixtures.js';

const PFN = 0x10;
const GPA = 0x5000;
const own = (fields: Partial<RmpEntry> = {}) =>
  entry({ assigned: true, asid: 1, gpa: GPA, validated: true, ...fields });
const PRIVATE_NPF = NpfInfo.PRESENT + NpfInfo.GUEST_FINAL + NpfInfo.RMP + NpfInfo.ENC;

function guestAccess(e: RmpEntry, kind: AccessKind, priv: boolean, guest: GuestAsidVmpl = GUEST) {
  const table = smallHost();
  table.write(PFN, e);
  return checkGuestAccess(table, guest, { pfn: PFN, gpa: GPA, kind, private: priv });
}

describe(checkHostAccess, () => {
  it.each([
    ['reads a guest page (reads are not RMP-checked)', own(), 'read', { kind: 'OK' }],
    ['writes a hypervisor-owned page', entry({}), 'write', { kind: 'OK' }],
    [
      'writes a guest page: #PF with the RMP bit',
      own(),
      'write',
      { kind: '#PF', check: 'Hypervisor-Owned', errorCode: PfError.RMP + PfError.PROT + PfError.WRITE },
    ],
    [
      'writes a firmware page (ASID 0, immutable)',
      entry({ assigned: true, immutable: true }),
      'write',
      { kind: '#PF' },
    ],
  ] as const)('host %s', (_name, e, kind, expected) => {
    const table = smallHost();
    table.write(PFN, e);

    expect(checkHostAccess(table, { pfn: PFN, kind })).toMatchObject(expected);
  });

  it('checks every page behind a 2M host mapping for a write', () => {
    const table = smallHost();
    table.write(0x3ff, own());

    expect(checkHostAccess(table, { pfn: 0x200, kind: 'write', mapping: '2M', user: true })).toMatchObject({
      kind: '#PF',
      errorCode: PfError.RMP + PfError.PROT + PfError.WRITE + PfError.USER,
    });
    expect(checkHostAccess(table, { pfn: 0x200, kind: 'write' })).toEqual({ kind: 'OK' });
  });

  it('checks the 2M region of the accessed page, from any page of it, for a 2M host mapping', () => {
    const table = smallHost();
    table.write(0x300, own());
    table.write(0x400, own()); // first page of the next region

    expect(checkHostAccess(table, { pfn: 0x3ff, kind: 'write', mapping: '2M' })).toEqual({
      kind: '#PF',
      check: 'Hypervisor-Owned',
      errorCode: PfError.RMP + PfError.PROT + PfError.WRITE,
    });
    expect(checkHostAccess(table, { pfn: 0x1ff, kind: 'write', mapping: '2M' })).toEqual({ kind: 'OK' });
    expect(checkHostAccess(table, { pfn: 0x5ff, kind: 'write', mapping: '2M' })).toMatchObject({
      kind: '#PF',
    });
  });

  it('faults a write through a 2M mapping exactly when a page of its 2M region is assigned', () => {
    // A 2048-page host (four regions) with entries written anywhere, as the firmware may.
    const writes = fc.array(fc.tuple(fc.integer({ min: 0, max: 2047 }), anyEntry), { maxLength: 40 });
    fc.assert(
      fc.property(writes, fc.integer({ min: 0, max: 2047 }), (ws, pfn) => {
        const table = RmpTable.create(2048);
        for (const [p, e] of ws) table.write(p, e);
        const base = pfn - (pfn % 512);
        const assigned = [...table.entries()].some(([p, e]) => e.assigned && p >= base && p < base + 512);

        const host = checkHostAccess(table, { pfn, kind: 'write', mapping: '2M' });
        const shared = checkGuestAccess(table, GUEST, {
          pfn,
          gpa: 0,
          kind: 'write',
          private: false,
          npt: '2M',
        });

        expect(host.kind).toBe(assigned ? '#PF' : 'OK');
        expect(shared.kind).toBe(assigned ? 'NPF' : 'OK');
      }),
    );
  });

  it('treats a page beyond the RMP as hypervisor-owned', () => {
    expect(checkHostAccess(smallHost(), { pfn: 4096, kind: 'write' })).toEqual({ kind: 'OK' });
  });
});

describe(checkGuestAccess, () => {
  it.each([
    ['private read of its validated page', own(), 'read', true, { kind: 'OK' }],
    [
      'private read of its unvalidated page: #VC 0x404',
      own({ validated: false }),
      'read',
      true,
      { kind: '#VC', errorCode: 0x404 },
    ],
    [
      'private read of a hypervisor page',
      entry({}),
      'read',
      true,
      { kind: 'NPF', check: 'Guest-Owned', exitInfo1: PRIVATE_NPF },
    ],
    [
      "private write of another guest's page",
      own({ asid: 2 }),
      'write',
      true,
      { kind: 'NPF', check: 'Guest-Owned' },
    ],
    [
      'private read of its page assigned at another gpa',
      own({ gpa: 0x6000 }),
      'read',
      true,
      { kind: 'NPF', check: 'Reverse-Map' },
    ],
    [
      'private read of an immutable page',
      own({ immutable: true }),
      'read',
      true,
      { kind: 'NPF', check: 'Mutable' },
    ],
    [
      'private read of a 2M RMP page through a 4K mapping',
      own({ pageSize: '2M', gpa: 0 }),
      'read',
      true,
      { kind: 'NPF' },
    ],
    [
      'fetch from a shared mapping (fetches are always private)',
      own({ validated: false }),
      'fetch',
      false,
      { kind: '#VC' },
    ],
    ['shared read of a private page (not checked)', own(), 'read', false, { kind: 'OK' }],
    ['shared write of a hypervisor page', entry({}), 'write', false, { kind: 'OK' }],
    [
      'shared write of a private page',
      own(),
      'write',
      false,
      {
        kind: 'NPF',
        check: 'Hypervisor-Owned',
        exitInfo1: NpfInfo.PRESENT + NpfInfo.GUEST_FINAL + NpfInfo.WRITE + NpfInfo.RMP,
      },
    ],
  ] as const)('%s', (_name, e, kind, priv, expected) => {
    expect(guestAccess(e, kind, priv)).toMatchObject(expected);
  });

  it('takes #NPF rather than #VC when both the ownership and the validated check fail', () => {
    expect(guestAccess(own({ validated: false, gpa: 0x6000 }), 'read', true)).toMatchObject({
      kind: 'NPF',
      check: 'Reverse-Map',
    });
  });

  it.each([
    ['read with READ', 0x1, 'read', 'OK'],
    ['read without READ', 0x0, 'read', 'NPF'],
    ['write with WRITE but not READ (illegal mask)', 0x2, 'write', 'NPF'],
    ['write with READ and WRITE', 0x3, 'write', 'OK'],
    ['supervisor fetch with EXEC_SUPERVISOR', 0x8, 'fetch', 'OK'],
    ['supervisor fetch with EXEC_USER only', 0x4, 'fetch', 'NPF'],
  ] as const)('VMPL1 %s', (_name, perms, kind, result) => {
    const outcome = guestAccess(own({ vmplPerms: [perms, 0, 0] }), kind, true, { asid: 1, vmpl: 1 });

    expect(outcome.kind).toBe(result);
    if (outcome.kind === 'NPF') expect(outcome.exitInfo1 >= NpfInfo.VMPL).toBe(true);
  });

  it('sets the RMP, encrypted and final-gpa bits in EXITINFO1 of a private-access #NPF (0x5_8000_0001)', () => {
    // P = bit 0, RMP = bit 31, GUEST_FINAL = bit 32, ENC = bit 34 (APM vol. 2 §15.36.10).
    expect(NPF_PRIVATE_RMP).toBe(0x5_8000_0001);
    expect(guestAccess(entry({}), 'read', true)).toEqual({
      kind: 'NPF',
      check: 'Guest-Owned',
      exitCode: 0x400,
      exitInfo1: 0x5_8000_0001,
    });
  });

  it('sets the USER and WRITE bits of EXITINFO1 for a user-mode write', () => {
    const table = smallHost();
    table.write(PFN, entry({}));

    expect(
      checkGuestAccess(table, GUEST, { pfn: PFN, gpa: GPA, kind: 'write', private: true, user: true }),
    ).toEqual({
      kind: 'NPF',
      check: 'Guest-Owned',
      exitCode: 0x400,
      exitInfo1: PRIVATE_NPF + NpfInfo.WRITE + NpfInfo.USER,
    });
    table.write(PFN, own());
    expect(
      checkGuestAccess(table, GUEST, { pfn: PFN, gpa: GPA, kind: 'write', private: false, user: true }),
    ).toEqual({
      kind: 'NPF',
      check: 'Hypervisor-Owned',
      exitCode: 0x400,
      exitInfo1: NpfInfo.PRESENT + NpfInfo.GUEST_FINAL + NpfInfo.WRITE + NpfInfo.USER + NpfInfo.RMP,
    });
  });

  it('raises #VC with check Validated and error code 0x404 on an unvalidated page', () => {
    expect(guestAccess(own({ validated: false }), 'write', true)).toEqual({
      kind: '#VC',
      check: 'Validated',
      errorCode: 0x404,
    });
  });

  it('takes #NPF RMP-Covered for a page beyond the RMP', () => {
    expect(
      checkGuestAccess(smallHost(), GUEST, { pfn: 4096, gpa: GPA, kind: 'read', private: true }),
    ).toEqual({
      kind: 'NPF',
      check: 'RMP-Covered',
      exitCode: 0x400,
      exitInfo1: PRIVATE_NPF,
    });
  });

  it('matches the reverse map on the 4K page of the gpa, whatever its offset in the page', () => {
    const table = smallHost();
    table.write(PFN, own());

    expect(
      checkGuestAccess(table, GUEST, { pfn: PFN, gpa: GPA + 0xabc, kind: 'read', private: true }),
    ).toEqual({
      kind: 'OK',
    });
  });

  describe('page size (the nested page table mapping must match the RMP page size)', () => {
    const twoMegTable = () => {
      const table = smallHost();
      for (let i = 0; i < 512; i++)
        table.write(0x200 + i, own({ pageSize: '2M', gpa: 0x20_0000 + i * 4096 }));
      table.write(0x1ff, own({ gpa: 0x1f_f000 })); // a 4K page just below the 2M page
      return table;
    };
    const read = (pfn: number, gpa: number, npt?: '4K' | '2M') =>
      checkGuestAccess(twoMegTable(), GUEST, { pfn, gpa, kind: 'read', private: true, ...(npt && { npt }) });

    it('allows a 2M mapping of a 2M RMP page', () => {
      expect(read(0x234, 0x23_4000, '2M')).toEqual({ kind: 'OK' });
    });

    it('takes #NPF Page-Size for a 4K mapping (the default) of a 2M RMP page', () => {
      const fault = { kind: 'NPF', check: 'Page-Size', exitCode: 0x400, exitInfo1: PRIVATE_NPF };

      expect(read(0x234, 0x23_4000)).toEqual(fault);
      expect(read(0x234, 0x23_4000, '4K')).toEqual(fault);
    });

    it('takes #NPF Page-Size for a 2M mapping of a 4K RMP page', () => {
      expect(read(0x1ff, 0x1f_f000, '2M')).toMatchObject({ kind: 'NPF', check: 'Page-Size' });
    });

    it('allows a 4K mapping of the 4K page next to a 2M page', () => {
      expect(read(0x1ff, 0x1f_f000)).toEqual({ kind: 'OK' });
    });
  });

  it('checks a shared write through a 4K mapping (the default) on its own page only', () => {
    const table = smallHost();
    table.write(0x3ff, own());
    const write = { pfn: 0x200, gpa: 0x20_0000, kind: 'write', private: false } as const;

    expect(checkGuestAccess(table, GUEST, write)).toEqual({ kind: 'OK' });
    expect(checkGuestAccess(table, GUEST, { ...write, npt: '2M' })).toMatchObject({
      kind: 'NPF',
      check: 'Hypervisor-Owned',
    });
    expect(checkGuestAccess(table, GUEST, { ...write, pfn: 4096 })).toEqual({ kind: 'OK' });
  });

  it('checks the whole region for a shared write through a 2M mapping, not the next one', () => {
    const table = RmpTable.create(4096);
    table.write(0x400, own());

    expect(
      checkGuestAccess(table, GUEST, {
        pfn: 0x200,
        gpa: 0x20_0000,
        kind: 'write',
        private: false,
        npt: '2M',
      }),
    ).toEqual({ kind: 'OK' });
  });

  it('takes #NPF VMPL with the VMPL bit of EXITINFO1 when a VMPL lacks the permission', () => {
    expect(
      guestAccess(own({ vmplPerms: [VmplPerm.READ, 0, 0] }), 'write', true, { asid: 1, vmpl: 1 }),
    ).toEqual({
      kind: 'NPF',
      check: 'VMPL',
      exitCode: 0x400,
      exitInfo1: PRIVATE_NPF + NpfInfo.WRITE + NpfInfo.VMPL,
    });
    expect(
      guestAccess(own({ vmplPerms: [0, 0, VmplPerm.READ] }), 'read', true, { asid: 1, vmpl: 3 }),
    ).toEqual({
      kind: 'OK',
    });
  });

  it.each([
    ['user fetch with EXEC_USER', 0x4, true, 'OK'],
    ['user fetch with EXEC_SUPERVISOR only', 0x8, true, 'NPF'],
    ['supervisor fetch with EXEC_SUPERVISOR', 0x8, false, 'OK'],
    ['supervisor fetch with EXEC_USER only', 0x4, false, 'NPF'],
  ] as const)('VMPL2 %s (APM vol. 2 Table 15-36)', (_name, perms, user, result) => {
    const table = smallHost();
    table.write(PFN, own({ vmplPerms: [0, perms, 0] }));

    const outcome = checkGuestAccess(
      table,
      { asid: 1, vmpl: 2 },
      { pfn: PFN, gpa: GPA, kind: 'fetch', private: true, user },
    );

    expect(outcome.kind).toBe(result);
  });
});
