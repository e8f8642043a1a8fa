import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HYPERVISOR_OWNED, type RmpEntry } from './entry.js';
import { RmpHostSizeError, RmpPfnRangeError } from './errors.js';
import { MAX_HOST_PAGES, RmpTable } from './table.js';
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
    expect(() => RmpTable.create(2 ** 32 + 1)).toThrow(RmpHostSizeError);
  });

  it.each([0, -1, 1.5, Number.NaN, 2 ** 32 + 1, Number.POSITIVE_INFINITY])(
    'refuses a host of %s pages, naming the accepted range [1, 2^32]',
    (hostPages) => {
      expect(() => RmpTable.create(hostPages)).toThrow(
        expect.objectContaining({
          code: 'RMP_HOST_SIZE',
          hostPages,
          maxPages: MAX_HOST_PAGES,
          message: expect.stringMatching(/^host size .* pages: expected an integer from 1 to 0x100000000$/),
        }),
      );
    },
  );

  it.each([1, 2 ** 32])('accepts a host of %s pages, covering exactly them', (hostPages) => {
    const table = RmpTable.create(hostPages);

    expect(table.hostPages).toBe(hostPages);
    expect(table.has(hostPages - 1)).toBe(true);
    expect(table.has(hostPages)).toBe(false);
    table.write(hostPages - 1, guestPage(0x1000));
    expect([...table.entries()]).toEqual([[hostPages - 1, guestPage(0x1000)]]);
  });

  it('reads back every entry after writes to thousands of scattered segments', () => {
    const table = RmpTable.create(2 ** 32);
    const written = new Map<number, RmpEntry>();
    let x = 7;
    for (let i = 0; i < 3000; i++) {
      x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0; // LCG: deterministic scatter over 2^32 pages
      const e = guestPage((i % 0x7_ffff) * 4096);
      table.write(x, e);
      written.set(x, e);
      if (i % 7 === 0) {
        table.write((x ^ 1) >>> 0, guestPage(0x1000)); // a second page of the same segment
        written.set((x ^ 1) >>> 0, guestPage(0x1000));
      }
    }

    for (const [pfn, e] of written) expect(table.read(pfn)).toEqual(e);
    expect([...table.entries()]).toEqual([...written].sort(([a], [b]) => a - b));
    expect(table.memory().segments).toBe(new Set([...written.keys()].map((pfn) => pfn >>> 4)).size);
  });

  it('behaves like a map, and tracks a segment per 16 pages that got a non-zero entry, past many index rehashes', () => {
    const writes = fc.array(fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), anyEntry), {
      minLength: 200,
      maxLength: 1000,
    });
    fc.assert(
      fc.property(writes, (ws) => {
        const table = RmpTable.create(2 ** 32);
        const model = new Map<number, RmpEntry>();
        const segments = new Set<number>();
        for (const [p, e] of ws) {
          table.write(p, e);
          model.set(p, e);
          if (JSON.stringify(e) !== JSON.stringify(HYPERVISOR_OWNED)) segments.add(p >>> 4);
        }
        for (const [p, e] of model) expect(table.read(p)).toEqual(e);
        const nonZero = [...model].filter(([, e]) => JSON.stringify(e) !== JSON.stringify(HYPERVISOR_OWNED));
        expect([...table.entries()]).toEqual(nonZero.sort(([a], [b]) => a - b));
        expect(table.memory()).toMatchObject({ segments: segments.size, trackedPages: 16 * segments.size });
      }),
      { numRuns: 30 },
    );
  });

  it('reports the bytes its typed arrays hold as segments are allocated', () => {
    // At creation: a slab of 64 segments (16 pages × 12 bytes; the first is the shared zero segment),
    // a 256-slot index (8 bytes a slot) and a head bitmap of one bit per 2 MiB region (hostPages / 4096
    // bytes). The slab grows by max(64, 1/8) segments when full; the index doubles beyond 3/4 load.
    const table = RmpTable.create(2 ** 28);
    const SEGMENT = 16 * 12;
    const bitmap = 2 ** 28 / 4096;
    const allocate = (segments: number) => {
      for (let s = table.memory().segments; s < segments; s++) table.write(s * 16 * 1021, guestPage(0x1000));
      expect(table.memory().segments).toBe(segments);
      return table.memory().bytes;
    };

    expect(table.memory()).toEqual({ trackedPages: 0, segments: 0, bytes: 64 * SEGMENT + 256 * 8 + bitmap });
    expect(allocate(63)).toBe(64 * SEGMENT + 256 * 8 + bitmap);
    expect(allocate(64)).toBe(128 * SEGMENT + 256 * 8 + bitmap);
    expect(allocate(128)).toBe(192 * SEGMENT + 256 * 8 + bitmap);
    expect(allocate(192)).toBe(256 * SEGMENT + 256 * 8 + bitmap);
    expect(allocate(193)).toBe(256 * SEGMENT + 512 * 8 + bitmap);
    expect(table.memory().trackedPages).toBe(193 * 16);
  });
});
