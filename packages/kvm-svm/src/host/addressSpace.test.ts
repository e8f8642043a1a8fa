import { PAGE_SIZE } from '@snp-ref/rmp-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressSpace } from './addressSpace.js';
import { HostPages } from './hostPages.js';

const HVA = 0x7f00_0000_0000;

describe('AddressSpace', () => {
  it('maps consecutive pfns from an hva and translates any address inside a page', () => {
    const host = new HostPages(64);
    const vmm = new AddressSpace(host);
    vmm.map(HVA, 10, 3);
    expect([0, 1, 2, 3].map((i) => vmm.translate(HVA + i * PAGE_SIZE + 123))).toEqual([
      10,
      11,
      12,
      undefined,
    ]);
    expect(vmm.translate(HVA - 1)).toBeUndefined();
    expect([9, 10, 11, 12, 13].map((pfn) => host.isMapped(pfn))).toEqual([false, true, true, true, false]);
  });

  it('remapping an hva drops the old page’s mapping', () => {
    const host = new HostPages(64);
    const vmm = new AddressSpace(host);
    vmm.map(HVA, 10, 2);
    vmm.map(HVA + PAGE_SIZE, 20, 1);
    expect([vmm.translate(HVA), vmm.translate(HVA + PAGE_SIZE)]).toEqual([10, 20]);
    expect([10, 11, 20].map((pfn) => host.isMapped(pfn))).toEqual([true, false, true]);
  });

  it('unmaps exactly the given pages; a page two VMMs map stays mapped until both unmap it', () => {
    const host = new HostPages(64);
    const [vmmA, vmmB] = [new AddressSpace(host), new AddressSpace(host)];
    vmmA.map(HVA, 10, 4);
    vmmB.map(HVA, 11, 1);
    vmmA.unmap(HVA + PAGE_SIZE, 2); // pfns 11 and 12
    expect([0, 1, 2, 3].map((i) => vmmA.translate(HVA + i * PAGE_SIZE))).toEqual([
      10,
      undefined,
      undefined,
      13,
    ]);
    expect([10, 11, 12, 13].map((pfn) => host.isMapped(pfn))).toEqual([true, true, false, true]); // 11: B's
    vmmB.unmap(HVA, 1);
    expect(host.isMapped(11)).toBe(false);
    vmmA.unmap(HVA + 8 * PAGE_SIZE, 1); // nothing there: nothing changes
    expect([10, 13].map((pfn) => host.isMapped(pfn))).toEqual([true, true]);
  });

  it('works without a HostPages to count mappings', () => {
    const vmm = new AddressSpace();
    vmm.map(HVA, 10, 2);
    vmm.map(HVA, 30, 1);
    vmm.unmap(HVA + PAGE_SIZE, 1);
    expect([vmm.translate(HVA), vmm.translate(HVA + PAGE_SIZE)]).toEqual([30, undefined]);
  });

  it('pins a fully mapped range once per page; a hole or a pfn outside the host pins nothing', () => {
    const host = new HostPages(64);
    const vmm = new AddressSpace(host);
    vmm.map(HVA, 60, 4); // pfns 60..63, the last pages of the host
    expect(vmm.pinRange(host, HVA, 4)).toEqual([60, 61, 62, 63]);
    expect([60, 61, 62, 63].map((pfn) => host.pinCount(pfn))).toEqual([1, 1, 1, 1]);
    for (const pfn of [60, 61, 62, 63]) host.unpin(pfn);

    vmm.map(HVA + 4 * PAGE_SIZE, 64, 1); // beyond the host's memory
    expect(vmm.pinRange(host, HVA + 2 * PAGE_SIZE, 3)).toBeUndefined();
    expect(vmm.pinRange(host, HVA + 2 * PAGE_SIZE, 4)).toBeUndefined(); // hole after it, too
    expect(host.pinned()).toEqual(new Map());
  });

  it('a page is mapped exactly while some address space maps it (property)', () => {
    const op = fc.record({
      vmm: fc.constantFrom(0, 1),
      unmap: fc.boolean(),
      page: fc.nat(5),
      pfn: fc.nat(7),
      pages: fc.integer({ min: 1, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const host = new HostPages(16);
        const vmms = [new AddressSpace(host), new AddressSpace(host)];
        const model = [new Map<number, number>(), new Map<number, number>()];
        for (const o of ops) {
          const [vmm, pages] = [vmms[o.vmm] as AddressSpace, model[o.vmm] as Map<number, number>];
          if (o.unmap) vmm.unmap(HVA + o.page * PAGE_SIZE, o.pages);
          else vmm.map(HVA + o.page * PAGE_SIZE, o.pfn, o.pages);
          for (let i = 0; i < o.pages; i++) {
            if (o.unmap) pages.delete(o.page + i);
            else pages.set(o.page + i, o.pfn + i);
          }
        }
        for (const [i, vmm] of vmms.entries())
          for (let page = 0; page < 10; page++)
            expect(vmm.translate(HVA + page * PAGE_SIZE)).toBe(model[i]?.get(page));
        const mapped = new Set(model.flatMap((m) => [...m.values()]));
        for (let pfn = 0; pfn < 16; pfn++) expect(host.isMapped(pfn)).toBe(mapped.has(pfn));
      }),
      { numRuns: 300 },
    );
  });
});
