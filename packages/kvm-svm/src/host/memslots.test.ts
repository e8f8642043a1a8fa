import { describe, expect, it } from 'vitest';
import { Memslots } from './memslots.js';

const HVA = 0x7f00_0000_0000;

describe('Memslots', () => {
  it('creates, moves and deletes slots, bumping the generation on every change', () => {
    const slots = new Memslots();
    expect([slots.generation, slots.all()]).toEqual([0, []]);
    slots.set(0, 0, HVA, 0x4000);
    slots.set(1, 0x10_0000, HVA + 0x10_0000, 0x2000);
    expect(slots.generation).toBe(2);
    expect(slots.all()).toEqual([
      { slot: 0, gpa: 0, hva: HVA, size: 0x4000 },
      { slot: 1, gpa: 0x10_0000, hva: HVA + 0x10_0000, size: 0x2000 },
    ]);
    slots.set(0, 0x80_0000, HVA, 0x4000); // moved
    expect(slots.all()).toContainEqual({ slot: 0, gpa: 0x80_0000, hva: HVA, size: 0x4000 });
    expect(slots.all()).toHaveLength(2);
    slots.set(1, 0, 0, 0); // deleted
    expect(slots.all()).toEqual([{ slot: 0, gpa: 0x80_0000, hva: HVA, size: 0x4000 }]);
    expect(slots.generation).toBe(4);
  });

  it('finds the slot whose hva range holds an address, from its first byte to its last', () => {
    const slots = new Memslots();
    slots.set(0, 0x1000, HVA, 0x4000);
    slots.set(1, 0x10_0000, HVA + 0x8000, 0x1000);
    expect(slots.byHva(HVA - 1)).toBeUndefined();
    expect(slots.byHva(HVA)?.slot).toBe(0);
    expect(slots.byHva(HVA + 0x3fff)?.slot).toBe(0);
    expect(slots.byHva(HVA + 0x4000)).toBeUndefined();
    expect(slots.byHva(HVA + 0x8000)?.slot).toBe(1);
    expect(slots.byHva(HVA + 0x9000)).toBeUndefined();
    expect([slots.gpaOf(HVA), slots.gpaOf(HVA + 0x2345), slots.gpaOf(HVA + 0x8010)]).toEqual([
      0x1000, 0x3345, 0x10_0010,
    ]);
    expect(slots.gpaOf(HVA + 0x4000)).toBeUndefined();
  });
});
