// Random launches on the upstream ABI (README.md "The upstream ABI"): VMs whose source pages share
// host ground, each with a guest_memfd and part of its gfns private, and the calls that make
// populate stop: gfns not private, pages already populated or assigned, unmapped sources,
// injected firmware, RMPUPDATE and copy failures.
import { hex, PAGE_SIZE } from '@snp-ref/rmp-core';
import type { GeneratedScenario } from './generate.js';
import { Prng } from './prng.js';

const VMS = ['a', 'b', 'c'];
const TYPES = ['normal', 'normal', 'normal', 'zero', 'unmeasured', 'secrets', 'cpuid'];
const FW_ERRORS = ['INVALID_PAGE_STATE', 'INVALID_PARAM', 'INVALID_PAGE_OWNER'];
/** Each VM's sources: 16 pages at its own hva base; its guest_memfd: 16 pages from GMEM_BASE. */
const hvaBase = (vm: number) => 0x10_0000 * (vm + 1);
const gmemPfn = (vm: number) => 128 + 32 * vm;

/** The upstream scenario of sequence `seed`. */
export function generateUpstreamScenario(seed: number, steps: number, hostPages: number): GeneratedScenario {
  const rng = new Prng(seed);
  const vms = VMS.slice(0, rng.int(1, VMS.length));
  const out: Record<string, unknown>[] = [];
  for (const [i, vm] of vms.entries()) {
    const vcpus = rng.int(0, 2);
    const vmsa = rng.chance(0.5) ? { vmsa: { vmm: 'QEMU', vcpuType: 'EPYC-v4' } } : {};
    out.push({ op: 'vm.create', vm, vcpus, ...vmsa });
    out.push({
      op: 'mmap',
      vm,
      hva: hex(hvaBase(i)),
      pfn: rng.int(0, 64),
      pages: 16,
      fill: { seed: `${seed}/${vm}` },
    });
    out.push({ op: 'gmem.create', vm, name: `g${vm}`, pfn: gmemPfn(i), pages: 16 });
    out.push({
      op: 'memslot.set',
      vm,
      slot: 0,
      gpa: 0,
      hva: hex(hvaBase(i)),
      size: hex(16 * PAGE_SIZE),
      gmem: `g${vm}`,
    });
    out.push({ op: 'memory.attributes', vm, gpa: 0, size: hex(rng.int(8, 16) * PAGE_SIZE), private: true });
    if (rng.chance(0.95)) out.push({ op: 'snp.launch_start', vm });
  }
  const vmIndex = () => rng.int(0, vms.length - 1);
  const page = () => rng.int(0, 17);
  const ops: (() => Record<string, unknown>)[] = [
    ...Array.from({ length: 6 }, () => () => {
      const i = vmIndex();
      const start = page();
      const source = rng.chance(0.9) ? start : page();
      return {
        op: 'snp.launch_update',
        vm: vms[i],
        hva: hex(hvaBase(i) + source * PAGE_SIZE),
        gpa: hex(start * PAGE_SIZE),
        len: rng.int(1, 6) * PAGE_SIZE,
        type: rng.pick(TYPES),
      };
    }),
    () => ({
      op: 'memory.attributes',
      vm: vms[vmIndex()],
      gpa: hex(page() * PAGE_SIZE),
      size: hex(rng.int(1, 4) * PAGE_SIZE),
      private: rng.chance(0.7),
    }),
    () =>
      rng.pick([
        { op: 'inject', at: 'psp.launch_update', nth: rng.int(1, 6), error: rng.pick(FW_ERRORS) },
        { op: 'inject', at: 'rmpupdate', nth: rng.int(1, 6), error: 'FAIL_INUSE' },
        { op: 'inject', at: 'copy_from_user', nth: rng.int(1, 6) },
      ]),
    // The hypervisor assigns a guest_memfd page (populate then stops with EEXIST) or a source page.
    () => ({
      op: 'hv.rmpupdate',
      pfn: rng.chance(0.5) ? gmemPfn(vmIndex()) + rng.int(0, 15) : rng.int(0, 80),
      entry: rng.chance(0.6)
        ? {
            assigned: true,
            asid: rng.int(1, vms.length),
            gpa: hex(page() * PAGE_SIZE),
            pageSize: '4K',
            immutable: false,
          }
        : { assigned: false, asid: 0, gpa: 0, pageSize: '4K', immutable: false },
    }),
    () => {
      const i = vmIndex();
      return { op: 'hv.write', vm: vms[i], hva: hex(hvaBase(i) + page() * PAGE_SIZE), data: 'deadbeef' };
    },
    () => ({ op: 'guest.read', vm: vms[vmIndex()], gpa: hex(page() * PAGE_SIZE), len: 64 }),
    () =>
      rng.chance(0.2)
        ? { op: 'snp.launch_finish', vm: vms[vmIndex()] }
        : { op: 'rmp.query', pfn: rng.int(0, hostPages - 1) },
  ];
  while (out.length < steps) out.push(rng.pick(ops)());
  return {
    scenario: 1,
    description: `snp-ref fuzz sequence ${seed} (upstream)`,
    host: { pages: hostPages },
    kvm: { abi: 'upstream', rejectAssignedOnUpdate: false },
    steps: out,
  };
}
