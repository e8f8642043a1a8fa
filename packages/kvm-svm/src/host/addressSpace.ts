import { PAGE_SIZE, PageMap } from '@snp-ref/rmp-core';
import type { HostPages } from './hostPages.js';

/**
 * A VMM process's address space: which host page each 4 KiB virtual page maps to. Two VMMs (or
 * two VMs of one) may map the same pfns, as a misbehaving VMM would.
 */
export class AddressSpace {
  /** Virtual page number → pfn; a PageMap, as a launch update translates every page of the guest. */
  private readonly pages = new PageMap<number>();

  /** `host`, when given, counts the mappings (so the kernel never takes a page a VMM maps). */
  constructor(private readonly host?: HostPages) {}

  /** Maps `pages` pages from `hva` (4 KiB aligned) to pfn, pfn + 1, … */
  map(hva: number, pfn: number, pages: number): void {
    for (let i = 0; i < pages; i++) {
      const page = hva / PAGE_SIZE + i;
      const old = this.pages.get(page);
      if (old !== undefined) this.host?.countMapping(old, -1);
      this.pages.set(page, pfn + i);
      this.host?.countMapping(pfn + i, 1);
    }
  }

  /** Unmaps `pages` pages from `hva`; pages not mapped are skipped. */
  unmap(hva: number, pages: number): void {
    for (let i = 0; i < pages; i++) {
      const page = hva / PAGE_SIZE + i;
      const old = this.pages.get(page);
      if (old !== undefined) this.host?.countMapping(old, -1);
      this.pages.delete(page);
    }
  }

  /** The pfn behind the page containing `hva`, if mapped. */
  translate(hva: number): number | undefined {
    return this.pages.get(Math.floor(hva / PAGE_SIZE));
  }

  /**
   * pin_user_pages() over [hva, hva + pages × 4 KiB): the pfns, each pinned once; or, when a page
   * is not mapped or `pinFails` says pinning it fails (an injected fault), undefined after
   * unpinning what was pinned (the caller returns EFAULT).
   */
  pinRange(host: HostPages, hva: number, pages: number, pinFails = () => false): number[] | undefined {
    const pfns: number[] = [];
    for (let i = 0; i < pages; i++) {
      const pfn = this.translate(hva + i * PAGE_SIZE);
      if (pfn === undefined || !host.has(pfn) || pinFails()) {
        for (const pinned of pfns) host.unpin(pinned);
        return undefined;
      }
      host.pin(pfn);
      pfns.push(pfn);
    }
    return pfns;
  }
}
