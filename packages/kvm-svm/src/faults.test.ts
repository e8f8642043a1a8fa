import { describe, expect, it } from 'vitest';
import { FAULT_SITES, FaultInjector } from './faults.js';
import { launchUpdateReviewed } from './snp/launchUpdate.js';
import { HVA, host } from './test/host.js';

describe('FaultInjector', () => {
  it('fails exactly the nth later call at a kernel site, once, and counts every call', () => {
    const faults = new FaultInjector();
    faults.fails('alloc');
    faults.inject('alloc', 2);
    expect([faults.fails('alloc'), faults.fails('alloc'), faults.fails('alloc')]).toEqual([
      false,
      true,
      false,
    ]);
    expect(faults.calls('alloc')).toBe(4);
    expect(faults.calls('pin')).toBe(0);
  });

  it('takes a code at the coded sites only', () => {
    const faults = new FaultInjector();
    expect(() => faults.inject('pin', 1, 3)).toThrow(/pin fails without a code/);
    expect(() => faults.inject('rmpupdate', 1)).toThrow(/not a failure code of RMPUPDATE/);
    faults.inject('rmpupdate', 1, 3);
    expect(faults.next('rmpupdate')).toBe(3);
  });

  it('counts, in a clean reviewed launch update of 3 pages, the calls a failure walk injects at', () => {
    const { machine, vm } = host();
    const a = vm('a'); // LAUNCH_START makes its context page a firmware page: one rmpupdate() of its own
    const before = FAULT_SITES.map((s) => machine.faults.calls(s));
    expect(launchUpdateReviewed(a, { gpa: 0, hva: HVA, len: 3 * 4096, type: 1 }).ok).toBe(true);
    // One struct copy, the page array and the pfn list, 3 pins, 3 rmpupdate(), 3 firmware calls.
    expect(
      Object.fromEntries(FAULT_SITES.map((s, i) => [s, machine.faults.calls(s) - (before[i] ?? 0)])),
    ).toEqual({
      'psp.launch_update': 3,
      rmpupdate: 3,
      pin: 3,
      alloc: 2,
      copy_from_user: 1,
      copy_to_user: 0,
    });
  });

  it('an injected pin failure at page k unpins the k - 1 pages already pinned and marks none', () => {
    const { machine, vm } = host();
    machine.faults.inject('pin', 3);
    expect(launchUpdateReviewed(vm('a'), { gpa: 0, hva: HVA, len: 4 * 4096, type: 1 })).toMatchObject({
      errno: 'EFAULT',
      check: 'launch_update.pin',
    });
    expect(machine.pages.pinned().size).toBe(0);
    expect(machine.pages.isDirty(0x100)).toBe(false);
    expect(machine.rmp.read(0x100).assigned).toBe(false);
  });

  it('a failed pfn-list allocation after pinning releases every pinned page dirty and accessed', () => {
    const { machine, vm } = host();
    const released: number[] = [];
    machine.pages.onRelease = (pfn) => released.push(pfn);
    machine.faults.inject('alloc', 2);
    expect(launchUpdateReviewed(vm('a'), { gpa: 0, hva: HVA, len: 2 * 4096, type: 1 })).toMatchObject({
      errno: 'ENOMEM',
    });
    expect(released).toEqual([0x100, 0x101]);
    expect(machine.pages.isDirty(0x101) && machine.pages.isAccessed(0x101)).toBe(true);
    expect(machine.pages.pinned().size).toBe(0);
  });
});
