import { PAGE_SIZE } from '@snp-ref/rmp-core';
import { createGuestMemfd, setGmemMemoryRegion, setMemoryAttributes } from '../snp/guestMemory.js';
import type { UpstreamLaunchUpdate } from '../snp/launchUpdateUpstream.js';
import { HVA, host, POLICY } from './host.js';

/** Where the upstream fixture's guest_memfd pages are: pfns GMEM_PFN … GMEM_PFN + 15. */
export const GMEM_PFN = 0x200;

/**
 * An upstream VM launching: the VMM's 16 source pages (pfns 0x100…) at HVA, a 16-page guest_memfd
 * bound to memslot 0 at gpa 0, the first `privatePages` gfns private.
 */
export function upstreamVm(privatePages = 16, options: { vcpus?: number } = {}) {
  const h = host({ abi: 'upstream' });
  const vm = h.kvm.createVm({ name: 'a', ...options });
  vm.addressSpace.map(HVA, 0x100, 16);
  for (let i = 0; i < 16; i++) h.machine.memory.write(0x100 + i, new Uint8Array(PAGE_SIZE).fill(i + 1));
  const steps = [
    createGuestMemfd(vm, 'g', GMEM_PFN, 16),
    setGmemMemoryRegion(vm, {
      slot: 0,
      gpa: 0,
      hva: HVA,
      size: 16 * PAGE_SIZE,
      gmem: vm.gmems.get('g') ?? fail(),
      gmemOffset: 0,
    }),
    ...(privatePages > 0 ? [setMemoryAttributes(vm, 0, privatePages * PAGE_SIZE, true)] : []),
    vm.launchStart({ policy: POLICY }),
  ];
  if (!steps.every((s) => s.ok)) throw new Error(`fixture: ${JSON.stringify(steps)}`);
  return { ...h, vm };
}

const fail = (): never => {
  throw new Error('fixture: no guest_memfd');
};

/** LAUNCH_UPDATE's struct for `pages` NORMAL pages from page `page` (gfn and source alike). */
export const update = (page: number, pages: number, type = 1): UpstreamLaunchUpdate => ({
  gfnStart: BigInt(page),
  uaddr: BigInt(HVA + page * PAGE_SIZE),
  len: BigInt(pages * PAGE_SIZE),
  type,
});
