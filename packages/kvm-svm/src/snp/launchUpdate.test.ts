import { checkGuestAccess } from '@snp-ref/rmp-core';
import { describe, expect, it } from 'vitest';
import { HVA, host, pagesState } from '../test/host.js';
import { launchUpdateReviewed, launchUpdateV4 } from './launchUpdate.js';

const NORMAL = 1;

describe('reviewed KVM_SEV_SNP_LAUNCH_UPDATE', () => {
  it('makes each page private at its gpa, measured and validated, and releases every pin dirty', () => {
    const { machine, vm } = host();
    const a = vm('a');
    expect(launchUpdateReviewed(a, { gpa: 0x10_0000, hva: HVA, len: 3 * 4096, type: NORMAL })).toEqual({
      ok: true,
      pages: 3,
    });
    for (let i = 0; i < 3; i++) {
      expect(machine.rmp.read(0x100 + i)).toMatchObject({
        assigned: true,
        asid: a.asid,
        gpa: 0x10_0000 + i * 4096,
        validated: true,
        immutable: false,
        pageSize: '4K',
      });
      expect(machine.pages.pinCount(0x100 + i)).toBe(0);
      expect(machine.pages.isDirty(0x100 + i) && machine.pages.isAccessed(0x100 + i)).toBe(true);
    }
  });

  it('needs no memslot, and memslot changes between calls change nothing', () => {
    const { machine, vm } = host();
    const a = vm('a');
    expect(a.memslots.all()).toEqual([]);
    expect(launchUpdateReviewed(a, { gpa: 0, hva: HVA, len: 4096, type: NORMAL }).ok).toBe(true);
    a.memslots.set(0, 0x4000_0000, HVA, 0x10_000); // a memslot appears, pointing elsewhere
    expect(launchUpdateReviewed(a, { gpa: 0x1000, hva: HVA + 4096, len: 4096, type: NORMAL }).ok).toBe(true);
    expect(machine.rmp.read(0x101).gpa).toBe(0x1000);
  });

  it('reverts exactly the pages it changed when the firmware fails on page k, leaving another VM’s pages alone', () => {
    const { machine, vm } = host();
    const b = vm('b', [[0x105, 3]]);
    expect(launchUpdateReviewed(b, { gpa: 0, hva: HVA, len: 3 * 4096, type: NORMAL }).ok).toBe(true); // b owns 0x105..0x107
    const a = vm('a', [[0x100, 8]]); // a's VMM maps b's pages too, at pages 5..7 of its range
    const othersBefore = pagesState(machine, 0x105, 3);
    machine.faults.inject('psp.launch_update', 3, 0x1a); // page k = 2 fails

    const result = launchUpdateReviewed(a, { gpa: 0, hva: HVA, len: 8 * 4096, type: NORMAL });

    expect(result).toMatchObject({ ok: false, errno: 'EIO', fwError: 'INVALID_PAGE_STATE', pages: 2 });
    for (let i = 0; i < 3; i++) expect(machine.rmp.read(0x100 + i).assigned).toBe(false); // 0..k reverted
    expect(pagesState(machine, 0x105, 3)).toBe(othersBefore); // k+1..n-1: untouched, still b's
    expect(machine.pages.pinned().size).toBe(0);
    // Every page the call pinned, reached or not, is released dirty and accessed.
    for (let i = 0; i < 8; i++)
      expect(machine.pages.isDirty(0x100 + i) && machine.pages.isAccessed(0x100 + i)).toBe(true);
  });

  it('refuses a page another guest owns with EBUSY when rejectAssignedOnUpdate is on, changing nothing', () => {
    const { machine, vm } = host({ rejectAssignedOnUpdate: true });
    const a = vm('a', [[0x100, 2]]);
    launchUpdateReviewed(a, { gpa: 0, hva: HVA, len: 2 * 4096, type: NORMAL });
    const b = vm('b', [[0x101, 1]]);
    const before = pagesState(machine, 0x100, 2);
    expect(launchUpdateReviewed(b, { gpa: 0, hva: HVA, len: 4096, type: NORMAL })).toMatchObject({
      ok: false,
      errno: 'EBUSY',
      pages: 0,
    });
    expect(pagesState(machine, 0x100, 2)).toBe(before);
  });

  it('without the check, the second guest silently takes the page and the first guest faults on it; the trace shows it', () => {
    const { machine, ring, vm } = host();
    const a = vm('a', [[0x100, 1]]);
    launchUpdateReviewed(a, { gpa: 0, hva: HVA, len: 4096, type: NORMAL });
    const b = vm('b', [[0x100, 1]]);
    expect(launchUpdateReviewed(b, { gpa: 0x5000, hva: HVA, len: 4096, type: NORMAL }).ok).toBe(true);
    const guestA = { asid: a.asid, vmpl: 0 } as const;
    expect(
      checkGuestAccess(machine.rmp, guestA, { pfn: 0x100, gpa: 0, kind: 'read', private: true }).kind,
    ).toBe('NPF');
    const takeover = ring
      .events()
      .find((e) => e.pfn === 0x100 && e.old.asid === a.asid && e.new.asid === b.asid);
    expect(takeover).toMatchObject({
      by: 'kvm',
      retName: 'SUCCESS',
      old: { validated: true },
      new: { validated: false },
    });
  });

  it.each([
    ['before LAUNCH_START', 'EINVAL', { gpa: 0, hva: HVA, len: 4096, type: NORMAL }, 'created'],
    ['after LAUNCH_FINISH', 'EINVAL', { gpa: 0, hva: HVA, len: 4096, type: NORMAL }, 'finished'],
    ['a zero length', 'EINVAL', { gpa: 0, hva: HVA, len: 0, type: NORMAL }, 'launching'],
    ['a length not a multiple of 4096', 'EINVAL', { gpa: 0, hva: HVA, len: 4097, type: NORMAL }, 'launching'],
    ['an unaligned hva', 'EINVAL', { gpa: 0, hva: HVA + 8, len: 4096, type: NORMAL }, 'launching'],
    ['an unaligned gpa', 'EINVAL', { gpa: 0x800, hva: HVA, len: 4096, type: NORMAL }, 'launching'],
    [
      'a length that overflows the gpa space',
      'EINVAL',
      { gpa: 2 ** 52 - 4096, hva: HVA, len: 8192, type: NORMAL },
      'launching',
    ],
    ['the VMSA page type (not in the uAPI)', 'EINVAL', { gpa: 0, hva: HVA, len: 4096, type: 2 }, 'launching'],
    [
      'an hva range partly unmapped',
      'EFAULT',
      { gpa: 0, hva: HVA + 15 * 4096, len: 2 * 4096, type: NORMAL },
      'launching',
    ],
  ] as const)('refuses %s with %s, changing and pinning nothing', (_, errno, params, phase) => {
    const { machine, kvm, vm } = host();
    const a = phase === 'created' ? kvm.createVm({ name: 'a' }) : vm('a');
    if (phase === 'created') a.addressSpace.map(HVA, 0x100, 16);
    if (phase === 'finished') expect(a.launchFinish().ok).toBe(true);
    const before = pagesState(machine, 0x100, 16);
    expect(launchUpdateReviewed(a, params)).toMatchObject({ ok: false, errno });
    expect(pagesState(machine, 0x100, 16)).toBe(before);
  });

  it('leaks a page it cannot give back, and reports it', () => {
    const { machine, vm } = host();
    const a = vm('a');
    machine.faults.inject('psp.launch_update', 2, 0x1a); // page 1 fails …
    machine.faults.inject('rmpupdate', 4, 3); // … and resetting page 0 fails (FAIL_INUSE)
    const result = launchUpdateReviewed(a, { gpa: 0, hva: HVA, len: 2 * 4096, type: NORMAL });
    expect(result).toMatchObject({ ok: false, errno: 'EIO', leaked: [0x100] });
    expect(machine.pages.leaked.has(0x100)).toBe(true);
    // Released like every pinned page (dirty, accessed, unpinned); the leak keeps it from reuse.
    expect(machine.pages.pinCount(0x100)).toBe(0);
    expect(machine.pages.isDirty(0x100)).toBe(true);
    expect(machine.rmp.read(0x101).assigned).toBe(false);
  });
});

describe('RFC v4 KVM_SEV_SNP_LAUNCH_UPDATE (as posted, to show the bug)', () => {
  it('on a firmware failure purges every entry of the range, destroying another VM’s pages it never touched', () => {
    const { machine, vm } = host({ abi: 'v4' });
    const b = vm('b', [[0x105, 3]]);
    b.memslots.set(0, 0, HVA, 3 * 4096);
    expect(launchUpdateV4(b, { hva: HVA, len: 3 * 4096, type: NORMAL }).ok).toBe(true);
    const a = vm('a', [[0x100, 8]]);
    a.memslots.set(0, 0, HVA, 8 * 4096);
    machine.faults.inject('psp.launch_update', 3, 0x1a);

    expect(launchUpdateV4(a, { hva: HVA, len: 8 * 4096, type: NORMAL })).toMatchObject({
      ok: false,
      errno: 'EIO',
    });
    for (let i = 5; i < 8; i++) expect(machine.rmp.read(0x100 + i).asid).toBe(0); // b's pages, wiped
    expect(machine.rmp.read(0x102).immutable).toBe(true); // the failed page: purge cannot undo an immutable entry
  });

  it('finds the gpa through memslots: deleted, the call fails; moved, it targets another gpa', () => {
    const { machine, vm } = host({ abi: 'v4' });
    const a = vm('a');
    a.memslots.set(0, 0, HVA, 16 * 4096);
    expect(launchUpdateV4(a, { hva: HVA, len: 4096, type: NORMAL }).ok).toBe(true);
    a.memslots.set(0, 0x80_0000, HVA, 16 * 4096); // moved
    expect(launchUpdateV4(a, { hva: HVA + 4096, len: 4096, type: NORMAL }).ok).toBe(true);
    expect(machine.rmp.read(0x101).gpa).toBe(0x80_1000);
    a.memslots.set(0, 0, HVA, 0); // deleted
    expect(launchUpdateV4(a, { hva: HVA + 2 * 4096, len: 4096, type: NORMAL })).toMatchObject({
      ok: false,
      errno: 'EINVAL',
    });
  });

  it('unpins without marking pages dirty', () => {
    const { machine, vm } = host({ abi: 'v4' });
    const a = vm('a');
    a.memslots.set(0, 0, HVA, 16 * 4096);
    launchUpdateV4(a, { hva: HVA, len: 4096, type: NORMAL });
    expect(machine.pages.pinCount(0x100)).toBe(0);
    expect(machine.pages.isDirty(0x100)).toBe(false);
  });
});
