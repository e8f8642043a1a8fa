import { checkGuestAccess } from '@snp-ref/rmp-core';
import { describe, expect, it } from 'vitest';
import { Machine } from '../machine.js';
import { HVA, host, pagesState } from '../test/host.js';
import { launchUpdateReviewed, launchUpdateV4 } from './launchUpdate.js';

const NORMAL = 1;
const HYPERVISOR = Machine.create({ hostPages: 1 }).rmp.read(0);

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
    // Not released: its pin is what keeps it from the allocator (snp_leak_pages takes no reference).
    expect(machine.pages.pinCount(0x100)).toBe(1);
    expect(machine.pages.isDirty(0x100)).toBe(false);
    expect(machine.pages.pinCount(0x101)).toBe(0);
    expect(machine.rmp.read(0x101).assigned).toBe(false);
  });
  it('maps the launched gpas to their pages for the nested page table, and a failed call maps none', () => {
    const { machine, vm } = host();
    const a = vm('a');
    expect(launchUpdateReviewed(a, { gpa: 0x10_0000, hva: HVA, len: 3 * 4096, type: NORMAL }).ok).toBe(true);
    expect([0, 1, 2, 3].map((i) => a.translateGpa(0x10_0000 + i * 4096 + 0x10))).toEqual([
      0x100,
      0x101,
      0x102,
      undefined,
    ]);
    machine.faults.inject('psp.launch_update', 2, 0x1a);
    expect(
      launchUpdateReviewed(a, { gpa: 0x20_0000, hva: HVA + 3 * 4096, len: 2 * 4096, type: NORMAL }).ok,
    ).toBe(false);
    expect([a.translateGpa(0x20_0000), a.translateGpa(0x20_1000)]).toEqual([undefined, undefined]);
    expect(a.privateMappings.size).toBe(3);
  });

  it('accepts hva 0 and a range that ends exactly at the top of the 51-bit gpa space', () => {
    const { machine, kvm } = host();
    const a = kvm.createVm({ name: 'a' });
    a.addressSpace.map(0, 0x100, 2);
    expect(a.launchStart({ policy: 0x3_0000n }).ok).toBe(true);
    const top = 2 ** 51 - 2 * 4096;
    expect(launchUpdateReviewed(a, { gpa: top, hva: 0, len: 2 * 4096, type: NORMAL })).toEqual({
      ok: true,
      pages: 2,
    });
    expect(machine.rmp.read(0x101)).toMatchObject({ assigned: true, gpa: top + 4096 });
  });

  it('on a failed rmpupdate reverts the pages before it and leaves the failed one as it was', () => {
    const { machine, vm } = host();
    const a = vm('a');
    const before = pagesState(machine, 0x101, 2);
    machine.faults.inject('rmpupdate', 2, 3); // page 1: FAIL_INUSE
    expect(launchUpdateReviewed(a, { gpa: 0, hva: HVA, len: 3 * 4096, type: NORMAL })).toMatchObject({
      errno: 'EFAULT',
      pages: 1,
    });
    expect(machine.rmp.read(0x100)).toEqual(HYPERVISOR);
    expect(pagesState(machine, 0x101, 2)).toBe(before);
    for (let i = 0; i < 3; i++)
      expect(machine.pages.isDirty(0x100 + i) && machine.pages.isAccessed(0x100 + i)).toBe(true);
  });

  it('leaks the failed page when it cannot be reset after its reclaim, and gives back the others', () => {
    const { machine, vm } = host();
    const a = vm('a');
    machine.faults.inject('psp.launch_update', 2, 0x1a); // page 1 fails …
    machine.faults.inject('rmpupdate', 3, 3); // … and its reset, after SNP_PAGE_RECLAIM, fails
    expect(launchUpdateReviewed(a, { gpa: 0, hva: HVA, len: 2 * 4096, type: NORMAL })).toMatchObject({
      leaked: [0x101],
    });
    expect([...machine.pages.leaked]).toEqual([0x101]);
    expect(machine.rmp.read(0x101)).toMatchObject({ assigned: true, asid: a.asid, immutable: false }); // reclaimed only
    expect(machine.rmp.read(0x100)).toEqual(HYPERVISOR);
    expect([...machine.pages.pinned()]).toEqual([[0x101, 1]]); // the leaked page keeps its pin
  });

  it('traces every rmpupdate it makes, each by kvm: make private, revert, reclaim and reset', () => {
    const { machine, ring, vm } = host();
    const a = vm('a');
    machine.faults.inject('psp.launch_update', 2, 0x1a);
    launchUpdateReviewed(a, { gpa: 0, hva: HVA, len: 2 * 4096, type: NORMAL });
    const updates = ring.events().filter((e) => e.kind === 'rmpupdate' && e.pfn !== a.gctx);
    expect(updates.map((e) => [e.pfn, e.by, e.new.assigned])).toEqual([
      [0x100, 'kvm', true],
      [0x101, 'kvm', true],
      [0x101, 'kvm', false], // the failed page, after SNP_PAGE_RECLAIM
      [0x100, 'kvm', false],
    ]);
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
  it('takes each page’s gpa from the memslot, maps it for the nested page table, and never marks pages', () => {
    const { machine, vm } = host({ abi: 'v4' });
    const a = vm('a');
    a.memslots.set(0, 0x10_0000, HVA, 16 * 4096);
    expect(launchUpdateV4(a, { hva: HVA + 4096, len: 3 * 4096, type: NORMAL })).toEqual({
      ok: true,
      pages: 3,
    });
    a.memslots.set(0, 0, 0, 0); // the nested page table keeps the launched pages without the memslot
    for (let i = 0; i < 3; i++) {
      expect(machine.rmp.read(0x101 + i)).toMatchObject({
        assigned: true,
        gpa: 0x10_1000 + i * 4096,
        pageSize: '4K',
      });
      expect(a.translateGpa(0x10_1000 + i * 4096)).toBe(0x101 + i);
      expect([
        machine.pages.pinCount(0x101 + i),
        machine.pages.isDirty(0x101 + i),
        machine.pages.isAccessed(0x101 + i),
      ]).toEqual([0, false, false]);
    }
    expect(a.privateMappings.size).toBe(3);
    expect(a.translateGpa(0x10_0000)).toBeUndefined();
  });

  it('purges the whole range when a page has no memslot, and maps nothing', () => {
    const { machine, vm } = host({ abi: 'v4' });
    const a = vm('a');
    a.memslots.set(0, 0, HVA, 2 * 4096);
    expect(launchUpdateV4(a, { hva: HVA, len: 3 * 4096, type: NORMAL })).toMatchObject({
      errno: 'EINVAL',
      pages: 2,
    });
    for (let i = 0; i < 3; i++) expect(machine.rmp.read(0x100 + i)).toEqual(HYPERVISOR);
    expect(a.privateMappings.size).toBe(0);
    expect(machine.pages.pinned().size).toBe(0);
  });

  it('refused by the sanity check, still purges the other guest’s page it refused', () => {
    const { machine, vm } = host({ abi: 'v4', rejectAssignedOnUpdate: true });
    const b = vm('b', [[0x101, 1]]);
    b.memslots.set(0, 0, HVA, 4096);
    expect(launchUpdateV4(b, { hva: HVA, len: 4096, type: NORMAL }).ok).toBe(true);
    const a = vm('a', [[0x100, 2]]);
    a.memslots.set(0, 0, HVA, 2 * 4096);
    expect(launchUpdateV4(a, { hva: HVA, len: 2 * 4096, type: NORMAL })).toMatchObject({
      errno: 'EBUSY',
      check: 'launch_update.assigned',
      pages: 1,
    });
    expect(machine.rmp.read(0x101)).toEqual(HYPERVISOR); // b's page, wiped all the same
  });

  it('traces its rmpupdates, and its purge, by kvm', () => {
    const { machine, ring, vm } = host({ abi: 'v4' });
    const a = vm('a');
    a.memslots.set(0, 0, HVA, 16 * 4096);
    machine.faults.inject('psp.launch_update', 1, 0x1a);
    launchUpdateV4(a, { hva: HVA, len: 2 * 4096, type: NORMAL });
    const updates = ring.events().filter((e) => e.kind === 'rmpupdate' && e.pfn !== a.gctx);
    expect(updates.map((e) => [e.pfn, e.by, e.retName])).toEqual([
      [0x100, 'kvm', 'SUCCESS'],
      [0x100, 'kvm', 'FAIL_PERMISSION'], // the purge cannot undo the immutable failed page
      [0x101, 'kvm', 'SUCCESS'], // a page the call never reached
    ]);
  });
});
