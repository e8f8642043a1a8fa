import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HYPERVISOR_OWNED, type RmpEntry } from './entry.js';
import { RmpPfnRangeError } from './errors.js';
import { RmpTable } from './table.js';
import { anyEntry } from './test/arbitraries.js';

const MiB = 2 ** 20;
const guestPage = (gpa: number): RmpEntry => ({ ...HYPERVISOR_OWNED, assigned: true, asid: 7, gpa });

describe(RmpTable, () => {
  it('reads every page of a new table as hypervisor-owned without allocating entries', () => {
    const table = RmpTable.create(2 ** 28);

    expect(table.read(0)).toEqual(HYPERVISOR_OWNED);
    expect(table.read(2 ** 28 - 1)).toEqual(HYPERVISOR_OWNED);
    expect(table.memory().trackedPages).toBe(0);
    expect([...table.entries()]).toEqual([]);
  });

  it('does not track a page when an all-zero entry is written to it', () => {
    const table = RmpTable.create(1024);

    table.write(5, HYPERVISOR_OWNED);

    expect(table.memory().segments).toBe(0);
  });

  it('behaves like a map from pfn to entry under any sequence of writes', () => {
    const pfn = fc.oneof(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(pfn, anyEntry), { maxLength: 300 }), (writes) => {
        const table = RmpTable.create(2 ** 32);
        const model = new Map<number, RmpEntry>();
        for (const [p, e] of writes) {
          table.write(p, e);
          model.set(p, e);
        }
        const expected = [...model].filter(([, e]) => JSON.stringify(e) !== JSON.stringify(HYPERVISOR_OWNED));
        expect([...table.entries()]).toEqual(expected.sort(([a], [b]) => a - b));
        for (const [p, e] of model) expect(table.read(p)).toEqual(e);
      }),
    );
  });

  it('keeps a 1 TiB host with 100,000 scattered touched pages under 64 MiB', () => {
    const table = RmpTable.create(2 ** 28);
    const [seed] = fc.sample(fc.integer(), { numRuns: 1, seed: 42 });
    let x = seed ?? 1;
    for (let i = 0; i < 100_000; i++) {
      x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0; // LCG: deterministic scatter
      table.write(x % 2 ** 28, guestPage(i * 4096));
    }

    expect(table.memory().bytes).toBeLessThan(64 * MiB);
    expect(table.memory().segments).toBeGreaterThan(95_000); // really scattered: ~one segment a page
  });

  it('spends at most 16 bytes per tracked page when every page is touched', () => {
    const pages = 2 ** 16;
    const table = RmpTable.create(pages);
    for (let pfn = 0; pfn < pages; pfn++) table.write(pfn, guestPage(pfn * 4096));

    const { bytes, trackedPages } = table.memory();

    expect(trackedPages).toBe(pages);
    expect(bytes / trackedPages).toBeLessThanOrEqual(16);
  });

  it.each([-1, 1024, 1.5, Number.NaN])('refuses pfn %s outside a 1024-page host', (pfn) => {
    const table = RmpTable.create(1024);

    expect(() => table.read(pfn)).toThrow(RmpPfnRangeError);
    expect(() => table.write(pfn, HYPERVISOR_OWNED)).toThrow(/expected an integer in \[0, 0x400\)/);
  });

  it('refuses a host larger than 2^32 pages', () => {
    expect(() => RmpTable.create(2 ** 32 + 1)).toThrow(RmpPfnRangeError);
  });
});
