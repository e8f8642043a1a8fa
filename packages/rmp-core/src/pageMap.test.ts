import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PageMap } from './pageMap.js';

describe(PageMap, () => {
  it('behaves like a Map from page number to value, iterated in page order, under any sets and deletes', () => {
    // A few pages across a chunk boundary (chunks fill and empty), pages near each other, and pages far
    // apart (pfns, and a VMM's page numbers up to 2^41).
    const page = fc.oneof(
      fc.integer({ min: 508, max: 516 }),
      fc.integer({ min: 0, max: 2047 }),
      fc.integer({ min: 0, max: 2 ** 41 }),
    );
    const op = fc.oneof(
      fc.tuple(fc.constant('set' as const), page, fc.integer()),
      fc.tuple(fc.constant('delete' as const), page, fc.constant(0)),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.array(page, { maxLength: 50 }), (ops, probes) => {
        const pages = new PageMap<number>();
        const model = new Map<number, number>();
        for (const [kind, p, value] of ops) {
          if (kind === 'set') {
            pages.set(p, value);
            model.set(p, value);
          } else expect(pages.delete(p)).toBe(model.delete(p));
        }
        expect([...pages]).toEqual([...model].sort(([a], [b]) => a - b));
        expect([...pages.values()]).toEqual([...model].sort(([a], [b]) => a - b).map(([, v]) => v));
        expect(pages.size).toBe(model.size);
        for (const p of [...probes, ...model.keys()]) {
          expect(pages.get(p)).toBe(model.get(p));
          expect(pages.has(p)).toBe(model.has(p));
        }
      }),
    );
  });

  it('refuses to store at what is not a page number', () => {
    const pages = new PageMap<number>();

    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN]) expect(() => pages.set(bad, 1)).toThrow(RangeError);
    expect(pages.size).toBe(0);
    expect(pages.get(-1)).toBeUndefined();
  });
});
