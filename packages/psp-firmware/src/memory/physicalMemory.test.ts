import { PAGE_SIZE } from '@snp-ref/rmp-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryEncryption } from './encryption.js';
import { PhysicalMemory } from './physicalMemory.js';

/** The eager model: DRAM holds ciphertext, every private write encrypts, every private read decrypts. */
class EagerMemory {
  private readonly pages = new Map<number, Buffer>();
  constructor(private readonly encryption: MemoryEncryption) {}
  read(pfn: number): Buffer {
    return Buffer.from(this.pages.get(pfn) ?? Buffer.alloc(PAGE_SIZE));
  }
  write(pfn: number, bytes: Uint8Array, offset: number): void {
    const page = this.read(pfn);
    page.set(bytes, offset);
    this.pages.set(pfn, page);
  }
  readPrivate(asid: number, pfn: number): Buffer {
    return this.encryption.decryptPage(asid, pfn, this.read(pfn));
  }
  writePrivate(asid: number, pfn: number, plaintext: Uint8Array): void {
    this.pages.set(pfn, this.encryption.encryptPage(asid, pfn, plaintext));
  }
  encryptInPlace(asid: number, pfn: number): void {
    this.writePrivate(asid, pfn, this.read(pfn));
  }
}

const pfn = fc.integer({ min: 0, max: 3 });
const asid = fc.integer({ min: 1, max: 3 });
const op = fc.oneof(
  fc.record({
    kind: fc.constant('write' as const),
    pfn,
    offset: fc.nat(4000),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 96 }),
  }),
  fc.record({ kind: fc.constant('writePrivate' as const), pfn, asid, fill: fc.nat(255) }),
  fc.record({ kind: fc.constant('encryptInPlace' as const), pfn, asid }),
);

describe(PhysicalMemory, () => {
  it('is indistinguishable from memory that encrypts on every private write', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), pfn, asid, (ops, probe, reader) => {
        const encryption = new MemoryEncryption('law');
        const [lazy, eager] = [new PhysicalMemory(encryption), new EagerMemory(encryption)];
        for (const o of ops) {
          if (o.kind === 'write') {
            lazy.write(o.pfn, o.bytes, o.offset);
            eager.write(o.pfn, o.bytes, o.offset);
          } else if (o.kind === 'writePrivate') {
            const page = new Uint8Array(PAGE_SIZE).fill(o.fill);
            lazy.writePrivate(o.asid, o.pfn, page);
            eager.writePrivate(o.asid, o.pfn, page);
          } else {
            lazy.encryptInPlace(o.asid, o.pfn);
            eager.encryptInPlace(o.asid, o.pfn);
          }
        }
        expect(lazy.read(probe)).toEqual(eager.read(probe));
        expect(lazy.readPrivate(reader, probe)).toEqual(eager.readPrivate(reader, probe));
        expect(Buffer.from(lazy.peek(probe))).toEqual(eager.read(probe));
      }),
      { numRuns: 100 },
    );
  }, 30_000);

  it('shows the host ciphertext that differs per ASID and per address, and the owner its plaintext', () => {
    const memory = PhysicalMemory.create('seed');
    const plaintext = new Uint8Array(PAGE_SIZE).fill(0x42);
    memory.writePrivate(1, 10, plaintext);
    memory.writePrivate(2, 11, plaintext);
    memory.writePrivate(1, 12, plaintext);
    expect(memory.readPrivate(1, 10)).toEqual(Buffer.from(plaintext));
    const [a, b, c] = [memory.read(10), memory.read(11), memory.read(12)];
    expect(a.equals(Buffer.from(plaintext))).toBe(false);
    expect(a.equals(b) || a.equals(c)).toBe(false);
    expect(memory.readPrivate(2, 10).equals(Buffer.from(plaintext))).toBe(false);
  });
});
