import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressSpace } from './addressSpace.js';
import { HostPages } from './hostPages.js';

describe('HostPages', () => {
  it('has exactly the integer pfns 0 .. count - 1', () => {
    const pages = new HostPages(16);
    expect([0, 1, 15].map((pfn) => pages.has(pfn))).toEqual([true, true, true]);
    expect([-1, 16, 17, 1.5, Number.NaN].map((pfn) => pages.has(pfn))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('counts pins: two pins need two unpins, and an unpin of an unpinned page throws', () => {
    const pages = new HostPages(16);
    pages.pin(3);
    pages.pin(3);
    expect(pages.pinCount(3)).toBe(2);
    pages.unpin(3);
    expect(pages.pinCount(3)).toBe(1);
    expect(pages.pinned()).toEqual(new Map([[3, 1]]));
    pages.unpin(3);
    expect(pages.pinCount(3)).toBe(0);
    expect(pages.pinned()).toEqual(new Map());
    expect(() => pages.unpin(0x1a)).toThrow(new Error('unpin of pfn 0x1a, which is not pinned'));
    expect(pages.pinCount(0x1a)).toBe(0);
  });

  it('releaseDirty marks the page dirty and accessed and drops one pin; unpin marks nothing', () => {
    const pages = new HostPages(16);
    expect([pages.isDirty(1), pages.isAccessed(1)]).toEqual([false, false]);
    pages.pin(1);
    pages.pin(1);
    pages.pin(2);
    pages.releaseDirty(1);
    pages.unpin(2);
    expect([pages.isDirty(1), pages.isAccessed(1), pages.pinCount(1)]).toEqual([true, true, 1]);
    expect([pages.isDirty(2), pages.isAccessed(2), pages.pinCount(2)]).toEqual([false, false, 0]);
  });

  it('allocates kernel pages from the top down, marks them kernel pages, and runs out', () => {
    const pages = new HostPages(3);
    expect([pages.allocateKernelPage(), pages.allocateKernelPage(), pages.allocateKernelPage()]).toEqual([
      2, 1, 0,
    ]);
    expect(pages.allocateKernelPage()).toBeUndefined();
    expect([0, 1, 2].every((pfn) => pages.isKernelPage(pfn))).toBe(true);
    expect(new HostPages(3).isKernelPage(2)).toBe(false);
  });

  it('never allocates a page a VMM maps, a pinned or leaked page, or one the caller refuses', () => {
    const pages = new HostPages(8);
    new AddressSpace(pages).map(0, 7, 1); // mapped
    pages.pin(6);
    pages.leak(5);
    expect(pages.allocateKernelPage((pfn) => pfn !== 4)).toBe(3);
    expect(pages.allocateKernelPage()).toBe(2);
    expect([7, 6, 5, 4].some((pfn) => pages.isKernelPage(pfn))).toBe(false);
  });

  it('allocates exactly the eligible pages, highest first, then nothing (property)', () => {
    const status = fc.constantFrom('free', 'mapped', 'pinned', 'leaked', 'refused');
    fc.assert(
      fc.property(fc.array(status, { minLength: 1, maxLength: 24 }), (statuses) => {
        const pages = new HostPages(statuses.length);
        const vmm = new AddressSpace(pages);
        for (const [pfn, s] of statuses.entries()) {
          if (s === 'mapped') vmm.map(pfn * 4096, pfn, 1);
          if (s === 'pinned') pages.pin(pfn);
          if (s === 'leaked') pages.leak(pfn);
        }
        const usable = (pfn: number) => statuses[pfn] !== 'refused';
        const got = statuses.map(() => pages.allocateKernelPage(usable)).filter((p) => p !== undefined);
        const eligible = [...statuses.keys()].filter((pfn) => statuses[pfn] === 'free').reverse();
        expect(got).toEqual(eligible);
        expect(pages.allocateKernelPage(usable)).toBeUndefined();
        for (const pfn of statuses.keys()) expect(pages.isKernelPage(pfn)).toBe(statuses[pfn] === 'free');
      }),
      { numRuns: 200 },
    );
  });
});
