import { hash } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { PAGE_SIZE } from '@snp-ref/rmp-core';
import { LengthError } from '../errors.js';
import { DIGEST_BYTES, type PageHasher } from './launchDigest.js';

/** Pages per unit of work: small, so the caller can interleave chaining and hashing finely. */
const CHUNK_PAGES = 32;

// Work sharing: every thread takes the next unhashed chunk from a shared counter, so the split
// adapts to each thread's speed; the caller also chains, in order, whatever is hashed.
// The worker is a few lines of plain JavaScript, evaluated, so it runs the same under tsx, vitest
// and the compiled package. Pages and results live in SharedArrayBuffers: nothing is copied.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { hash } = require('node:crypto');
parentPort.on('message', ({ pages, hashes, next, done, pageCount }) => {
  const input = Buffer.from(pages.buffer, pages.byteOffset, pages.byteLength);
  const output = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
  for (let chunk = Atomics.add(next, 0, 1); chunk * ${CHUNK_PAGES} < pageCount; chunk = Atomics.add(next, 0, 1)) {
    const end = Math.min(pageCount, (chunk + 1) * ${CHUNK_PAGES});
    for (let page = chunk * ${CHUNK_PAGES}; page < end; page++) {
      const bytes = input.subarray(page * ${PAGE_SIZE}, (page + 1) * ${PAGE_SIZE});
      output.write(hash('sha384', bytes, 'binary'), page * ${DIGEST_BYTES}, 'latin1');
    }
    Atomics.store(done, chunk, 1);
    Atomics.notify(done, chunk);
  }
});
`;

/**
 * SHA-384 of many 4 KiB pages on worker threads and the calling thread, handed back in page order:
 * the launch digest's page contents hash independently, only the PAGE_INFO chain is serial, so the
 * caller chains what is hashed and hashes itself when the next page to chain is not ready.
 */
export class ParallelPageHasher implements PageHasher {
  private constructor(private readonly workers: readonly Worker[]) {}

  /** Starts `workers` worker threads (default: one per core but the caller's) and waits until they run. */
  static async create(workers?: number): Promise<ParallelPageHasher> {
    // Loaded here, not with the module: a process that hashes on one thread does not pay for them.
    const [{ availableParallelism }, { Worker }] = await Promise.all([
      import('node:os'),
      import('node:worker_threads'),
    ]);
    const started = Array.from(
      { length: Math.max(1, workers ?? availableParallelism() - 1) },
      () => new Worker(WORKER_SOURCE, { eval: true }),
    );
    await Promise.all(started.map((w) => new Promise((resolve) => w.once('online', resolve))));
    return new ParallelPageHasher(started);
  }

  /** Threads that hash: the workers and the caller. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Calls `each(index, hashes, offset)` for every page of `pages`, in order, once the page's
   * SHA-384 is at hashes[offset, offset + 48). `pages` should live in a SharedArrayBuffer (see
   * `sharedPages`); other memory is copied into one first.
   */
  hashPages(pages: Uint8Array, each: (index: number, hashes: Buffer, offset: number) => void): void {
    if (pages.length % PAGE_SIZE !== 0)
      throw new LengthError('a range of pages', 'a multiple of 4096', pages.length);
    const shared = pages.buffer instanceof SharedArrayBuffer ? pages : sharedPages(pages);
    const input = Buffer.from(shared.buffer, shared.byteOffset, shared.byteLength);
    const pageCount = shared.length / PAGE_SIZE;
    const chunks = Math.ceil(pageCount / CHUNK_PAGES);
    const hashes = Buffer.from(new SharedArrayBuffer(Math.max(1, pageCount) * DIGEST_BYTES));
    const next = new Int32Array(new SharedArrayBuffer(4));
    const done = new Int32Array(new SharedArrayBuffer(Math.max(1, chunks) * 4));
    for (const worker of this.workers) worker.postMessage({ pages: shared, hashes, next, done, pageCount });

    for (let chained = 0; chained < chunks; ) {
      if (Atomics.load(done, chained) === 1) {
        const end = Math.min(pageCount, (chained + 1) * CHUNK_PAGES);
        for (let page = chained * CHUNK_PAGES; page < end; page++) each(page, hashes, page * DIGEST_BYTES);
        chained++;
        continue;
      }
      const chunk = Atomics.add(next, 0, 1);
      if (chunk >= chunks) {
        Atomics.wait(done, chained, 0); // everything is taken: wait for the next chunk to chain
        continue;
      }
      const end = Math.min(pageCount, (chunk + 1) * CHUNK_PAGES);
      for (let page = chunk * CHUNK_PAGES; page < end; page++) {
        const bytes = input.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
        hashes.write(hash('sha384', bytes, 'binary'), page * DIGEST_BYTES, 'latin1');
      }
      Atomics.store(done, chunk, 1);
    }
  }

  /** Stops the worker threads; the hasher is unusable after. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** A copy of `bytes` in a SharedArrayBuffer, for ParallelPageHasher to read without copying. */
export function sharedPages(bytes: Uint8Array): Uint8Array {
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  return shared;
}
