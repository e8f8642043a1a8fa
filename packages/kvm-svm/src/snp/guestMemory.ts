import { PAGE_SIZE } from '@snp-ref/rmp-core';
import { GuestMemfd } from '../host/guestMemfd.js';
import { fail, type KvmResult, OK } from '../result.js';
import type { SnpVm } from './snpVm.js';

// The VM ioctls that give an upstream SNP VM its private memory (include/uapi/linux/kvm.h):
// KVM_CREATE_GUEST_MEMFD, KVM_SET_USER_MEMORY_REGION2 with KVM_MEM_GUEST_MEMFD and
// KVM_SET_MEMORY_ATTRIBUTES. Misuse of the model itself (a taken name, pfns it cannot give) throws
// RangeError; what the kernel refuses is a KvmFailure.

/**
 * KVM_CREATE_GUEST_MEMFD (kvm_gmem_create, virt/kvm/guest_memfd.c) of `pages` pages, backed by host
 * pages pfn … pfn + pages − 1 (the kernel would allocate them; the caller names them so that
 * checks can). They must be free: hypervisor-owned, mapped by no VMM, not the kernel's; they are
 * zeroed. Throws RangeError for a taken name or unusable pfns.
 */
export function createGuestMemfd(vm: SnpVm, name: string, pfn: number, pages: number): KvmResult {
  if (vm.gmems.has(name)) throw new RangeError(`a guest_memfd named "${name}" exists`);
  if (!Number.isSafeInteger(pages) || pages <= 0)
    return fail('create_guest_memfd.size', `${pages} pages: the size must be a positive multiple of 4096`);
  const { pages: host, rmp, memory } = vm.machine;
  for (let p = pfn; p < pfn + pages; p++) {
    if (!host.has(p))
      throw new RangeError(`pfn 0x${p.toString(16)} is beyond the host's ${host.count} pages`);
    if (!host.isFree(p) || rmp.read(p).assigned)
      throw new RangeError(`pfn 0x${p.toString(16)} is not free (mapped, pinned, assigned or the kernel's)`);
  }
  for (let p = pfn; p < pfn + pages; p++) {
    host.takeForKernel(p);
    memory.write(p, new Uint8Array(PAGE_SIZE));
  }
  vm.gmems.set(name, new GuestMemfd(name, vm.name, pfn, pages));
  return OK;
}

/** KVM_SET_USER_MEMORY_REGION2 with KVM_MEM_GUEST_MEMFD: a memslot whose private side is a guest_memfd range. */
export interface GmemMemoryRegion {
  readonly slot: number;
  readonly gpa: number;
  /** The shared side: the VMM's userspace address. */
  readonly hva: number;
  /** Bytes; 0 deletes the slot. */
  readonly size: number;
  readonly gmem: GuestMemfd;
  /** Byte offset into the guest_memfd. */
  readonly gmemOffset: number;
}

/**
 * KVM_SET_USER_MEMORY_REGION2 with KVM_MEM_GUEST_MEMFD (virt/kvm/kvm_main.c
 * __kvm_set_memory_region, virt/kvm/guest_memfd.c kvm_gmem_bind): a new memslot whose private pages
 * come from `gmem` at `gmemOffset`. Such a slot can only be created or deleted.
 */
export function setGmemMemoryRegion(vm: SnpVm, region: GmemMemoryRegion): KvmResult {
  const { slot, gpa, hva, size, gmem, gmemOffset } = region;
  if (vm.memslots.get(slot) !== undefined)
    return fail('set_user_memory_region.gmem_immutable', `memslot ${slot} exists: delete it first`);
  if (
    gmem.vm !== vm.name ||
    gmemOffset % PAGE_SIZE !== 0 ||
    gmemOffset + size > gmem.size ||
    gmem.isBound(gmemOffset, size)
  )
    return fail(
      'set_user_memory_region.gmem',
      `guest_memfd "${gmem.name}" (VM ${gmem.vm}, ${gmem.size} bytes) cannot back ${size} bytes at offset ${gmemOffset} of VM ${vm.name}`,
    );
  gmem.bind(slot, gmemOffset, size);
  vm.memslots.set(slot, gpa, hva, size, { file: gmem, offset: gmemOffset });
  return OK;
}

/** Deletes or replaces memslot `slot` as KVM_SET_USER_MEMORY_REGION does, unbinding its guest_memfd (kvm_gmem_unbind). */
export function setMemoryRegion(vm: SnpVm, slot: number, gpa: number, hva: number, size: number): KvmResult {
  const old = vm.memslots.get(slot);
  if (old?.gmem !== undefined && size !== 0)
    return fail(
      'set_user_memory_region.gmem_immutable',
      `memslot ${slot} has a guest_memfd: delete it first`,
    );
  old?.gmem?.file.unbind(slot);
  vm.memslots.set(slot, gpa, hva, size);
  return OK;
}

/**
 * KVM_SET_MEMORY_ATTRIBUTES (kvm_vm_ioctl_set_mem_attributes, virt/kvm/kvm_main.c): marks
 * [gpa, gpa + size) private (KVM_MEMORY_ATTRIBUTE_PRIVATE) or shared.
 */
export function setMemoryAttributes(vm: SnpVm, gpa: number, size: number, isPrivate: boolean): KvmResult {
  if (size === 0 || gpa % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || !Number.isSafeInteger(gpa + size))
    return fail(
      'set_memory_attributes.range',
      `address ${gpa} and size ${size}: both 4 KiB aligned, size > 0`,
    );
  vm.attributes.set(gpa / PAGE_SIZE, (gpa + size) / PAGE_SIZE, isPrivate);
  return OK;
}
