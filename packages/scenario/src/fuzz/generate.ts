// Random scenarios in the scenario format (README.md): up to four VMs over a small host whose pages they may
// share, every op of the format, and injected firmware and RMPUPDATE failures. The output is the
// JSON a user would write, so a failing sequence is a replayable scenario file.
import { hex, PAGE_SIZE } from '@snp-ref/rmp-core';
import { Prng } from './prng.js';

/**
 * Pfn 0 can hold a 2 MiB page over the pages the VMs share; the kernel's own pages (firmware
 * contexts) come from the top, outside it.
 */
export const HOST_PAGES = 1024;

/** A scenario file the fuzzer wrote, in the scenario format (version 1). */
export interface GeneratedScenario {
  scenario: 1;
  description: string;
  host: { pages: number };
  kvm: { abi: 'reviewed' | 'v4' | 'upstream'; rejectAssignedOnUpdate: boolean };
  steps: Record<string, unknown>[];
}

/** Each VM's VMM maps 16 pages at its own hva base; memslots map them at gpa 0. */
const hvaBase = (vm: number) => 0x10_0000 * (vm + 1);
const VMS = ['a', 'b', 'c', 'd'];
const TYPES = ['normal', 'normal', 'normal', 'zero', 'unmeasured', 'secrets', 'cpuid', 'vmsa'];
const FW_ERRORS = ['INVALID_PAGE_STATE', 'INVALID_PARAM', 'INVALID_PAGE_OWNER', 'INVALID_ADDRESS'];
const RMP_ERRORS = ['FAIL_INPUT', 'FAIL_PERMISSION', 'FAIL_INUSE', 'FAIL_OVERLAP'];

/** The scenario of sequence `seed`: the same seed, the same scenario, on every machine. */
export function generateScenario(
  seed: number,
  steps: number,
  only?: { abi: 'reviewed' | 'v4' },
): GeneratedScenario {
  const rng = new Prng(seed);
  const drawn = rng.chance(0.8) ? 'reviewed' : 'v4';
  const abi = only?.abi ?? drawn;
  const vmCount = rng.int(1, 4);
  const vms = VMS.slice(0, vmCount);
  const out: Record<string, unknown>[] = [];
  const bases: number[] = []; // each VM's first mapped pfn
  // Now and then VM a's memory starts as one 2 MiB private page (from pfn 0, at gpa 0), given
  // before any launch claims a 4 KiB page of it: 2 MiB PVALIDATE and size checks get exercised.
  const twoMegPrologue = rng.chance(0.1);
  for (const [i, vm] of vms.entries()) {
    out.push({ op: 'vm.create', vm, vcpus: rng.int(0, 2) });
    // Pages 0..79 are shared ground: VMs draw overlapping ranges, as a misbehaving VMM might.
    const pfn = twoMegPrologue && i === 0 ? 0 : rng.int(0, 80 - 16);
    bases.push(pfn);
    out.push({
      op: 'mmap',
      vm,
      hva: hex(hvaBase(i)),
      pfn,
      pages: 16,
      fill: rng.chance(0.7) ? { seed: `${seed}/${vm}` } : 'zero',
    });
    out.push({ op: 'memslot.set', vm, slot: 0, gpa: '0x0', hva: hex(hvaBase(i)), size: hex(16 * PAGE_SIZE) });
    if (twoMegPrologue && i === 0) {
      const entry = { assigned: true, asid: 1, gpa: '0x0', pageSize: '2M', immutable: false };
      out.push({ op: 'hv.rmpupdate', pfn: 0, entry });
    }
    // Most VMs start launching at once, so updates reach the firmware; the rest try it later.
    if (rng.chance(0.9)) out.push({ op: 'snp.launch_start', vm });
  }
  const vmIndex = () => rng.int(0, vmCount - 1);
  const page = () => rng.int(0, 17); // a little past the 16 mapped pages, now and then
  const gpa = () => (rng.chance(0.05) ? rng.int(0, 16 * PAGE_SIZE) : page() * PAGE_SIZE);
  const ops: (() => Record<string, unknown>)[] = [
    () => {
      const i = vmIndex();
      return {
        op: 'snp.launch_start',
        vm: vms[i],
        ...(rng.chance(0.1) && { policy: hex(rng.pick([0x1_0000, 0x3_0000, 0x2_0000 | (1 << 26)])) }),
      };
    },
    ...Array.from({ length: 5 }, () => () => {
      const i = vmIndex();
      const start = page();
      const pages = rng.int(1, 4);
      return {
        op: 'snp.launch_update',
        vm: vms[i],
        hva: hex(hvaBase(i) + start * PAGE_SIZE + (rng.chance(0.03) ? 0x800 : 0)),
        gpa: hex(rng.chance(0.8) ? start * PAGE_SIZE : gpa()),
        len: rng.chance(0.03) ? 100 : pages * PAGE_SIZE,
        type: rng.pick(TYPES),
      };
    }),
    // Rarely: a finished VM refuses further updates, which would make most of a sequence EINVAL.
    () =>
      rng.chance(0.25)
        ? { op: 'snp.launch_finish', vm: vms[vmIndex()] }
        : { op: 'rmp.query', pfn: rng.int(0, HOST_PAGES - 1) },
    () =>
      rng.chance(0.5)
        ? { op: 'inject', at: 'psp.launch_update', nth: rng.int(1, 6), error: rng.pick(FW_ERRORS) }
        : { op: 'inject', at: 'rmpupdate', nth: rng.int(1, 6), error: rng.pick(RMP_ERRORS) },
    // Review point 3: the hypervisor reassigns a VM's own page at its own gpa, which clears Validated.
    () => {
      const i = vmIndex();
      const p = rng.int(0, 15);
      const entry = {
        assigned: true,
        asid: i + 1,
        gpa: hex(p * PAGE_SIZE),
        pageSize: '4K',
        immutable: false,
      };
      return { op: 'hv.rmpupdate', pfn: (bases[i] ?? 0) + p, entry };
    },
    () => {
      const twoMeg = rng.chance(0.05);
      return {
        op: 'hv.rmpupdate',
        // a 2 MiB entry fits at pfn 0, over the shared ground; now and then a kernel page at the top
        pfn: twoMeg ? 0 : rng.chance(0.95) ? rng.int(0, 95) : rng.int(0, HOST_PAGES - 1),
        entry: rng.chance(0.5)
          ? { assigned: false, asid: 0, gpa: 0, pageSize: '4K', immutable: false }
          : {
              assigned: true,
              asid: rng.int(1, vmCount),
              gpa: hex(twoMeg ? 0 : page() * PAGE_SIZE),
              pageSize: twoMeg ? '2M' : '4K',
              immutable: rng.chance(0.2),
            },
      };
    },
    () => {
      const i = vmIndex();
      // after the 2 MiB prologue, VM a validates its 2 MiB page now and then
      const twoMeg = rng.chance(twoMegPrologue && i === 0 ? 0.3 : 0.05);
      return {
        op: 'guest.pvalidate',
        vm: vms[i],
        ...(twoMeg
          ? { gpa: hex(rng.chance(0.5) ? 0 : page() * PAGE_SIZE), pageSize: '2M' }
          : { gpa: hex(page() * PAGE_SIZE) }),
        validate: rng.chance(0.8),
      };
    },
    () => ({
      op: 'guest.read',
      vm: vms[vmIndex()],
      gpa: hex(page() * PAGE_SIZE + rng.int(0, 8) * 64),
      len: 64,
      private: rng.chance(0.8),
    }),
    () => ({
      op: 'guest.write',
      vm: vms[vmIndex()],
      gpa: hex(page() * PAGE_SIZE),
      data: 'c0ffee',
      private: rng.chance(0.8),
    }),
    () => {
      const i = vmIndex();
      return { op: 'hv.write', vm: vms[i], hva: hex(hvaBase(i) + page() * PAGE_SIZE), data: 'deadbeef' };
    },
    () => {
      const i = vmIndex();
      return {
        op: 'memslot.set',
        vm: vms[i],
        slot: 0,
        gpa: hex(rng.pick([0, 0, 16 * PAGE_SIZE])),
        hva: hex(hvaBase(i)),
        size: hex(rng.pick([16, 16, 0]) * PAGE_SIZE),
      };
    },
  ];
  while (out.length < steps) out.push(rng.pick(ops)());
  return {
    scenario: 1,
    description: `snp-ref fuzz sequence ${seed}`,
    host: { pages: HOST_PAGES },
    kvm: { abi, rejectAssignedOnUpdate: rng.chance(0.5) },
    steps: out,
  };
}
