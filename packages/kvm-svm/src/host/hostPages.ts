/**
 * Host physical pages as the kernel tracks them for KVM: a pin count (get_user_pages / pin_user_pages),
 * the dirty and accessed marks KVM sets before unpinning (kvm_release_page_dirty, mark_page_accessed),
 * and the pages KVM leaked because their RMP entry could not be made hypervisor-owned again
 * (snp_leak_pages, arch/x86/virt/svm/sev.c). Contents live in psp-firmware's PhysicalMemory.
 */
export class HostPages {
  private readonly pins: Uint32Array;
  private readonly marks: Uint8Array;
  /** Pages never to be returned to the host: possibly still guest- or firmware-owned. */
  readonly leaked = new Set<number>();
  private nextKernelPage: number;

  constructor(readonly count: number) {
    this.pins = new Uint32Array(count);
    this.marks = new Uint8Array(count);
    this.nextKernelPage = count - 1;
  }

  has(pfn: number): boolean {
    return Number.isInteger(pfn) && pfn >= 0 && pfn < this.count;
  }

  pin(pfn: number): void {
    this.pins[pfn] = (this.pins[pfn] ?? 0) + 1;
  }

  /** Marks the page dirty and accessed, then drops one pin (what KVM does for every pinned launch page). */
  releaseDirty(pfn: number): void {
    this.marks[pfn] = (this.marks[pfn] ?? 0) | DIRTY | ACCESSED;
    this.unpin(pfn);
  }

  /** Drops one pin without marking the page (undoing a partial pin). */
  unpin(pfn: number): void {
    const pins = this.pins[pfn] ?? 0;
    if (pins === 0) throw new Error(`unpin of pfn 0x${pfn.toString(16)}, which is not pinned`);
    this.pins[pfn] = pins - 1;
  }

  pinCount(pfn: number): number {
    return this.pins[pfn] ?? 0;
  }

  /** Every pinned page and its count. */
  pinned(): Map<number, number> {
    const pinned = new Map<number, number>();
    this.pins.forEach((pins, pfn) => {
      if (pins !== 0) pinned.set(pfn, pins);
    });
    return pinned;
  }

  isDirty(pfn: number): boolean {
    return ((this.marks[pfn] ?? 0) & DIRTY) !== 0;
  }

  isAccessed(pfn: number): boolean {
    return ((this.marks[pfn] ?? 0) & ACCESSED) !== 0;
  }

  /**
   * A page for the kernel's own use (guest context, VMSA): taken from the top of memory down, so
   * it stays clear of the low pages a scenario maps for its VMs. Undefined when none is left.
   */
  allocateKernelPage(): number | undefined {
    return this.nextKernelPage >= 0 ? this.nextKernelPage-- : undefined;
  }

  leak(pfn: number): void {
    this.leaked.add(pfn);
  }
}

const DIRTY = 1;
const ACCESSED = 2;
