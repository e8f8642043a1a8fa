import { PAGE_SIZE } from '@snp-ref/rmp-core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PageType } from '../pageType.js';
import { LaunchDigest } from './launchDigest.js';
import { ParallelPageHasher, sharedPages } from './parallelPageHasher.js';

describe(ParallelPageHasher, () => {
  let hasher: ParallelPageHasher;
  beforeAll(async () => {
    hasher = await ParallelPageHasher.create(2);
  });
  afterAll(() => hasher.close());

  it('gives the same launch digest as hashing on one thread, for any page count and contents', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 255 }), (pages, salt) => {
        const bytes = sharedPages(
          Uint8Array.from({ length: pages * PAGE_SIZE }, (_, i) => (i * 31 + salt) & 0xff),
        );
        const [serial, parallel] = [new LaunchDigest(), new LaunchDigest()];
        serial.updatePages(PageType.NORMAL, 0x10_0000, bytes);
        parallel.updatePagesParallel(hasher, PageType.NORMAL, 0x10_0000, bytes);
        expect(parallel.hex()).toBe(serial.hex());
      }),
      { numRuns: 20 },
    );
  });

  it('copies pages that are not in shared memory, and names a length that is not whole pages', () => {
    const [serial, parallel] = [new LaunchDigest(), new LaunchDigest()];
    const bytes = new Uint8Array(3 * PAGE_SIZE).fill(9);
    serial.updatePages(PageType.VMSA, 0, bytes);
    parallel.updatePagesParallel(hasher, PageType.VMSA, 0, bytes);
    expect(parallel.hex()).toBe(serial.hex());
    expect(() => hasher.hashPages(new Uint8Array(100), () => {})).toThrow(
      'must be a multiple of 4096 bytes, got 100',
    );
  });
});
