import { PageMap } from '@snp-ref/rmp-core';

/**
 * Host physical pages as the kernel tracks them for KVM: pin counts (pin_user_pages), the dirty and
 * accessed marks KVM sets before unpinning (set_page_dirty_lock, mark_page_accessed), how many VMM
 * mappings each page has, the pages the kernel took for itself, and the pages KVM leaked because
 * their RMP entry could not be made hypervisor-owned again (snp_leak_pages, arch/x86/virt/svm/sev.c,
 * lists them and takes no reference: the caller keeps its own, a launch update its pin, so they are
 * never reused). Contents live in psp-firmware's
 * PhysicalMemory. Sparse: only pages something happened to cost memory.
 */
export class HostPages {
  // PageMaps, not Maps: a launch update pins, marks and releases every page of the guest.
  private readonly pins = new PageMap<number>();
  private readonly marks = new PageMap<number>();
  private readonly mappings = new PageMap<number>();
  private readonly kernel = new Set<number>();
  /** Pages never to be returned to the host: possibly still guest- or firmware-owned. */
  readonly leaked = new Set<number>();
  private nextKernelPage: number;

  constructor(readonly count: number) {
    this.nextKernelPage = count - 1;
  }

  /** Whether `pfn` is a page of this host. */
  has(pfn: number): boolean {
    return Number.isInteger(pfn) && pfn >= 0 && pfn < this.count;
  }

  /** Takes one more pin on the page (pin_user_pages). */
  pin(pfn: number): void {
    this.pins.set(pfn, this.pinCount(pfn) + 1);
  }

  /** Told of every releaseDirty, after the marks are set (snp-conform prints each release of a launch update). */
  onRelease: ((pfn: number) => void) | undefined = undefined;

  /** Marks the page dirty and accessed, then drops one pin (what KVM does for every pinned launch page). */
  releaseDirty(pfn: number): void {
    this.marks.set(pfn, (this.marks.get(pfn) ?? 0) | DIRTY | ACCESSED);
    this.unpin(pfn);
    this.onRelease?.(pfn);
  }

  /** Drops one pin without marking the page (undoing a partial pin). */
  unpin(pfn: number): void {
    const pins = this.pinCount(pfn);
    if (pins === 0) throw new Error(`unpin of pfn 0x${pfn.toString(16)}, which is not pinned`);
    if (pins === 1) this.pins.delete(pfn);
    else this.pins.set(pfn, pins - 1);
  }

  /** How many pins the page has; 0 when it is not pinned. */
  pinCount(pfn: number): number {
    return this.pins.get(pfn) ?? 0;
  }

  /** Every pinned page and its count, in ascending pfn order. */
  pinned(): Map<number, number> {
    return new Map(this.pins.entries());
  }

  /** Whether the page was marked dirty when it was released. */
  isDirty(pfn: number): boolean {
    return ((this.marks.get(pfn) ?? 0) & DIRTY) !== 0;
  }

  /** Whether the page was marked accessed when it was released. */
  isAccessed(pfn: number): boolean {
    return ((this.marks.get(pfn) ?? 0) & ACCESSED) !== 0;
  }

  /** A VMM maps (or unmaps, delta -1) the page. */
  countMapping(pfn: number, delta: 1 | -1): void {
    const count = (this.mappings.get(pfn) ?? 0) + delta;
    if (count <= 0) this.mappings.delete(pfn);
    else this.mappings.set(pfn, count);
  }

  /** Whether any VMM maps the page. */
  isMapped(pfn: number): boolean {
    return this.mappings.has(pfn);
  }

  /** Whether the kernel took the page for its own use. */
  isKernelPage(pfn: number): boolean {
    return this.kernel.has(pfn);
  }

  /**
   * A page for the kernel's own use (guest context, VMSA, command inputs), from the top of memory
   * down: never one a VMM maps, one that is pinned or leaked, or one `usable` refuses (the caller
   * checks its RMP entry). Undefined when none is left.
   */
  allocateKernelPage(usable: (pfn: number) => boolean = () => true): number | undefined {
    for (; this.nextKernelPage >= 0; this.nextKernelPage--) {
      const pfn = this.nextKernelPage;
      if (!this.isFree(pfn) || !usable(pfn)) continue;
      this.nextKernelPage--;
      this.kernel.add(pfn);
      return pfn;
    }
    return undefined;
  }

  /** Whether the kernel may take the page: no VMM maps it, it is not pinned, leaked or the kernel's already. */
  isFree(pfn: number): boolean {
    return !this.isMapped(pfn) && this.pinCount(pfn) === 0 && !this.leaked.has(pfn) && !this.kernel.has(pfn);
  }

  /** The kernel takes this free page (a guest_memfd's, which the caller names). */
  takeForKernel(pfn: number): void {
    this.kernel.add(pfn);
  }

  /** Leaks the page: it is never returned to the host (snp_leak_pages). */
  leak(pfn: number): void {
    this.leaked.add(pfn);
  }
}

const DIRTY = 1;
const ACCESSED = 2;
