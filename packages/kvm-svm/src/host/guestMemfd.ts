import { PAGE_SIZE } from '@snp-ref/rmp-core';

/** A range of a guest_memfd bound to a memslot: its byte offset into the file and its size. */
interface Binding {
  readonly slot: number;
  readonly offset: number;
  readonly size: number;
}

/**
 * A guest_memfd (KVM_CREATE_GUEST_MEMFD, virt/kvm/guest_memfd.c): a file of one VM's private
 * memory that userspace never maps. The model backs it with host pages the caller names (the kernel
 * would allocate them), zero when created. A page a successful populate filled is marked prepared
 * (kvm_gmem_mark_prepared); kvm_gmem_populate refuses a prepared page with -EEXIST.
 */
export class GuestMemfd {
  /** One bit per page (kvm_gmem_populate asks for every page of a launch: a bit is cheaper than a Set entry). */
  private readonly prepared: Uint8Array;
  private readonly bindings = new Map<number, Binding>();

  constructor(
    readonly name: string,
    /** The VM it was created on: kvm_gmem_bind refuses a memslot of another VM. */
    readonly vm: string,
    readonly firstPfn: number,
    readonly pages: number,
  ) {
    this.prepared = new Uint8Array(Math.ceil(pages / 8));
  }

  /** The file's size in bytes (KVM_CREATE_GUEST_MEMFD's size). */
  get size(): number {
    return this.pages * PAGE_SIZE;
  }

  /** The host page behind page `index` of the file. */
  pfnAt(index: number): number {
    return this.firstPfn + index;
  }

  /** Whether page `index` was populated already: its contents set and measured (kvm_gmem_is_prepared). */
  isPrepared(index: number): boolean {
    return ((this.prepared[index >>> 3] ?? 0) & (1 << (index & 7))) !== 0;
  }

  /** Marks page `index` populated, after a successful post_populate (kvm_gmem_mark_prepared). */
  markPrepared(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pages)
      throw new RangeError(`page ${index} is beyond guest_memfd "${this.name}" (${this.pages} pages)`);
    this.prepared[index >>> 3] = (this.prepared[index >>> 3] ?? 0) | (1 << (index & 7));
  }

  /** Whether [offset, offset + size) overlaps a range bound to another memslot (kvm_gmem_bind: xa_find). */
  isBound(offset: number, size: number): boolean {
    for (const b of this.bindings.values())
      if (offset < b.offset + b.size && b.offset < offset + size) return true;
    return false;
  }

  /** Binds [offset, offset + size) of the file to memslot `slot` (kvm_gmem_bind). */
  bind(slot: number, offset: number, size: number): void {
    this.bindings.set(slot, { slot, offset, size });
  }

  /** kvm_gmem_unbind, when its memslot is deleted. */
  unbind(slot: number): void {
    this.bindings.delete(slot);
  }
}
