import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KvmAbi } from '../checks.js';
import { Kvm } from '../kvm.js';
import { Machine } from '../machine.js';
import type { KvmResult } from '../result.js';
import { HVA } from '../test/host.js';
import { launchUpdateReviewed, launchUpdateV4 } from './launchUpdate.js';
import type { SnpVm } from './snpVm.js';

const POOL = 0x100; // both VMMs map pfns POOL .. POOL + 11, at overlapping offsets
const POOL_PAGES = 12;
const VMS = ['a', 'b'] as const;
const MAPPED_FROM: Record<(typeof VMS)[number], number> = { a: 0, b: 4 };

type Step =
  | { kind: 'update'; vm: 0 | 1; first: number; pages: number; gfn: number; type: number }
  | { kind: 'memslot'; vm: 0 | 1; gfn: number; size: number }
  | { kind: 'inject'; site: 'psp.launch_update' | 'rmpupdate'; nth: number }
  | { kind: 'finish'; vm: 0 | 1 };

const vmIndex = fc.constantFrom(0 as const, 1 as const);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('update' as const),
      vm: vmIndex,
      first: fc.nat(7),
      pages: fc.integer({ min: 1, max: 5 }),
      gfn: fc.nat(64),
      type: fc.constantFrom(1, 1, 3, 4),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('memslot' as const),
      vm: vmIndex,
      gfn: fc.nat(64),
      size: fc.nat(8),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('inject' as const),
      site: fc.constantFrom('psp.launch_update' as const, 'rmpupdate' as const),
      nth: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('finish' as const), vm: vmIndex }) },
);

const entryOf = (machine: Machine, pfn: number) => JSON.stringify(machine.rmp.read(pfn));
const HYPERVISOR = JSON.stringify(Machine.create({ hostPages: 1 }).rmp.read(0));

/**
 * Runs a random interleaving of two VMs' launch steps and checks, after every step: no pinned page
 * is left but leaked ones; a failed LAUNCH_UPDATE left every page it did not reach as it was, and
 * the pages it did reach as they were or hypervisor-owned again; pages launched into a VM stay its
 * own (with rejectAssignedOnUpdate). Throws on the first violation.
 */
function runLaunches(abi: KvmAbi, rejectAssignedOnUpdate: boolean, steps: readonly Step[]): void {
  const machine = Machine.create({ hostPages: 4096, seed: 'property', rejectAssignedOnUpdate });
  const kvm = new Kvm(machine, abi);
  const vms: SnpVm[] = VMS.map((name) => {
    const vm = kvm.createVm({ name });
    vm.addressSpace.map(HVA, POOL + MAPPED_FROM[name], POOL_PAGES - 4);
    vm.memslots.set(0, 0, HVA, (POOL_PAGES - 4) * 4096);
    if (!vm.launchStart({ policy: 0x3_0000n }).ok) throw new Error('launch start failed');
    return vm;
  });
  const launched = vms.map(() => new Set<number>());
  for (const s of steps) {
    if (s.kind === 'inject') machine.faults.inject(s.site, s.nth, s.site === 'rmpupdate' ? 3 : 0x1a);
    if (s.kind === 'memslot') vms[s.vm]?.memslots.set(0, s.gfn * 4096, HVA, s.size * 4096);
    if (s.kind === 'finish') vms[s.vm]?.launchFinish();
    if (s.kind !== 'update') continue;
    const vm = vms[s.vm] as SnpVm;
    const hva = HVA + s.first * 4096;
    const range = Array.from({ length: s.pages }, (_, i) => vm.addressSpace.translate(hva + i * 4096));
    const before = Array.from({ length: 4096 }, (_, pfn) =>
      pfn >= POOL && pfn < POOL + POOL_PAGES ? entryOf(machine, pfn) : '',
    );
    const len = s.pages * 4096;
    const result: KvmResult =
      abi === 'reviewed'
        ? launchUpdateReviewed(vm, { gpa: s.gfn * 4096, hva, len, type: s.type })
        : launchUpdateV4(vm, { hva, len, type: s.type });
    const label = `${JSON.stringify(s)} → ${result.ok ? 'ok' : result.errno}`;

    const pinned = [...machine.pages.pinned().keys()];
    if (pinned.some((pfn) => !machine.pages.leaked.has(pfn)))
      throw new Error(`${label}: pages left pinned: ${pinned}`);
    if (result.ok) {
      for (const pfn of range) if (pfn !== undefined) launched[s.vm]?.add(pfn);
    } else {
      for (let pfn = POOL; pfn < POOL + POOL_PAGES; pfn++) {
        const [was, now] = [before[pfn], entryOf(machine, pfn)];
        // Pages 0..k of the range (k = result.pages, the page that failed) are the ones the call reached.
        const index = range.indexOf(pfn);
        // An EIO page was made private before the firmware refused it; an EBUSY/EFAULT page never changed.
        const last = (result.pages ?? -1) - (result.errno === 'EIO' ? 0 : 1);
        const reached = index >= 0 && index <= last;
        const allowed = was === now || (reached && (now === HYPERVISOR || machine.pages.leaked.has(pfn)));
        if (!allowed) throw new Error(`${label}: pfn 0x${pfn.toString(16)} changed from ${was} to ${now}`);
      }
    }
    if (rejectAssignedOnUpdate) {
      for (const [i, pfns] of launched.entries()) {
        for (const pfn of pfns) {
          const e = machine.rmp.read(pfn);
          // A page stays its guest's, unless a failed call of that same guest gave it back.
          if (e.assigned && e.asid !== vms[i]?.asid)
            throw new Error(`${label}: pfn 0x${pfn.toString(16)} moved to ASID ${e.asid}`);
          if (!e.assigned) pfns.delete(pfn);
        }
      }
    }
  }
}

const steps = fc.array(step, { minLength: 5, maxLength: 30, size: 'max' });

describe('two VMs launching at random, with memslot changes and injected failures', () => {
  it('reviewed: no pin leaks, failed calls touch only their own pages, launched pages stay their guest’s', () => {
    fc.assert(
      fc.property(steps, fc.boolean(), (s, check) => runLaunches('reviewed', check, s)),
      { numRuns: 200 },
    );
  });

  it('v4: breaks the untouched-pages rule (fast-check finds a sequence)', () => {
    const outcome = fc.check(
      fc.property(steps, (s) => runLaunches('v4', false, s)),
      { numRuns: 500, seed: 42 },
    );
    expect(outcome.failed).toBe(true);
    expect(String(outcome.errorInstance)).toMatch(/changed from|pages left pinned/);
  });
});
