import { describe, expect, it } from 'vitest';
import {
  type AccessKind,
  checkGuestAccess,
  checkHostAccess,
  type GuestContext,
  NpfInfo,
  PfError,
} from './access.js';
import type { RmpEntry } from './entry.js';
import { entry, GUEST, smallHost } from './test/fixtures.js';

const PFN = 0x10;
const GPA = 0x5000;
const own = (fields: Partial<RmpEntry> = {}) =>
  entry({ assigned: true, asid: 1, gpa: GPA, validated: true, ...fields });
const PRIVATE_NPF = NpfInfo.PRESENT + NpfInfo.GUEST_FINAL + NpfInfo.RMP + NpfInfo.ENC;

function guestAccess(e: RmpEntry, kind: AccessKind, priv: boolean, guest: GuestContext = GUEST) {
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
});
