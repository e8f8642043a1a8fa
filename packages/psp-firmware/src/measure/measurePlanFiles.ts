import { type FileHandle, open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PAGE_SIZE } from '@snp-ref/rmp-core';
import { PlanError } from '../errors.js';
import { PageType } from '../pageType.js';
import { LaunchDigest, type MeasuredPage, type PageHasher } from './launchDigest.js';
import { measureOp, type PlanMeasurement, type PlanStep } from './measurePlan.js';
import { type LaunchPlan, type PlanOp, SeededPages } from './plan.js';

/** Pages read from a file at a time: 4 MiB of memory, however large the file. */
const CHUNK_PAGES = 1024;

/** How {@link measurePlanWithFiles} reads a plan's files and reports its progress. */
export interface MeasureFilesOptions {
  /** Where file paths in the plan are relative to (the plan's directory). */
  readonly baseDir: string;
  /** Hash NORMAL file pages on worker threads (ParallelPageHasher); the digest is the same. */
  readonly hasher?: PageHasher;
  /** Called as pages are measured, for progress reports. */
  readonly onProgress?: (pagesDone: number, pagesTotal: number) => void;
  /** Called after every page with what it added to the chain and the index of its op (measurement logs). */
  readonly onPage?: (page: MeasuredPage, op: number) => void;
}

/**
 * measurePlan for plans whose NORMAL ops may take their pages from files: each file is streamed in
 * 4 MiB chunks (in shared memory when a hasher is given), so a multi-GiB image costs a few MiB, and
 * the next chunk is read while the current one is hashed.
 */
export async function measurePlanWithFiles(
  plan: LaunchPlan,
  options: MeasureFilesOptions,
): Promise<PlanMeasurement> {
  const digest = new LaunchDigest(plan.initialDigest);
  let current = 0;
  const { onPage } = options;
  if (onPage) digest.onPage = (page) => onPage(page, current);
  const seeded = new SeededPages(plan.seed);
  const total = plan.ops.reduce((n, op) => n + op.pages, 0);
  let done = 0;
  const bytes = CHUNK_PAGES * PAGE_SIZE;
  const buffer = () =>
    new Uint8Array(options.hasher === undefined ? new ArrayBuffer(bytes) : new SharedArrayBuffer(bytes));
  const buffers = [buffer(), buffer()] as const;
  const steps: PlanStep[] = [];
  for (const [index, op] of plan.ops.entries()) {
    current = index;
    if (op.file !== undefined) {
      await streamFile(op, index, options, buffers, (chunk, gpa) => {
        if (options.hasher === undefined) digest.updatePages(PageType.NORMAL, gpa, chunk);
        else digest.updatePagesParallel(options.hasher, PageType.NORMAL, gpa, chunk);
        done += chunk.length / PAGE_SIZE;
        options.onProgress?.(done, total);
      });
    } else {
      measureOp(digest, op, seeded);
      done += op.pages;
      options.onProgress?.(done, total);
    }
    steps.push({ op, digest: digest.hex() });
  }
  return { digest: digest.hex(), steps };
}

async function streamFile(
  op: PlanOp,
  index: number,
  options: MeasureFilesOptions,
  buffers: readonly [Uint8Array, Uint8Array],
  each: (bytes: Uint8Array, gpa: number) => void,
): Promise<void> {
  const file = op.file as NonNullable<PlanOp['file']>;
  const where = `ops[${index}].file`;
  let handle: FileHandle;
  try {
    handle = await open(resolve(options.baseDir, file.path), 'r');
  } catch (error) {
    throw new PlanError(
      where,
      `cannot open ${file.path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  try {
    const needed = file.offset + op.pages * PAGE_SIZE;
    const { size } = await handle.stat();
    if (size < needed)
      throw new PlanError(
        where,
        `${file.path} has ${size} bytes; ${op.pages} pages from offset ${file.offset} need ${needed}`,
      );
    const readChunk = async (page: number, into: Uint8Array) => {
      const bytes = into.subarray(0, Math.min(CHUNK_PAGES, op.pages - page) * PAGE_SIZE);
      for (let read = 0; read < bytes.length; ) {
        const { bytesRead } = await handle.read(
          bytes,
          read,
          bytes.length - read,
          file.offset + page * PAGE_SIZE + read,
        );
        if (bytesRead === 0) throw new PlanError(where, `${file.path} ended early`);
        read += bytesRead;
      }
      return bytes;
    };
    let next = op.pages > 0 ? readChunk(0, buffers[0]) : undefined;
    for (let page = 0, turn = 0; next !== undefined; page += CHUNK_PAGES, turn ^= 1) {
      const bytes = await next;
      // Read ahead into the other buffer while this one is hashed.
      next =
        page + CHUNK_PAGES < op.pages
          ? readChunk(page + CHUNK_PAGES, buffers[turn === 0 ? 1 : 0])
          : undefined;
      each(bytes, op.gpa + page * PAGE_SIZE);
    }
  } finally {
    await handle.close();
  }
}
