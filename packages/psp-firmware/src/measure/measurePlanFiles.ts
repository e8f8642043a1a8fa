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
  /**
   * Files the caller has already read, by the path the plan names them with: their pages are
   * measured from these bytes (the very bytes a firmware's metadata was parsed from) rather than
   * read again (with a hasher, a chunk at a time through shared memory).
   */
  readonly loaded?: ReadonlyMap<string, Uint8Array>;
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
      const measureChunk = (chunk: Uint8Array, gpa: number) => {
        if (options.hasher === undefined) digest.updatePages(PageType.NORMAL, gpa, chunk);
        else digest.updatePagesParallel(options.hasher, PageType.NORMAL, gpa, chunk);
        done += chunk.length / PAGE_SIZE;
        options.onProgress?.(done, total);
      };
      const loaded = options.loaded?.get(op.file.path);
      if (loaded === undefined) await streamFile(op, index, options, buffers, measureChunk);
      else chunksOf(op, index, loaded, measureChunk);
    } else {
      measureOp(digest, op, seeded);
      done += op.pages;
      options.onProgress?.(done, total);
    }
    steps.push({ op, digest: digest.hex() });
  }
  return { digest: digest.hex(), steps };
}

/** PlanError unless a file of `size` bytes holds the op's pages from its offset. */
function checkFileSize(op: PlanOp, index: number, size: number): void {
  const { path, offset } = op.file as NonNullable<PlanOp['file']>;
  const needed = offset + op.pages * PAGE_SIZE;
  if (size < needed)
    throw new PlanError(
      `ops[${index}].file`,
      `${path} has ${size} bytes; ${op.pages} pages from offset ${offset} need ${needed}`,
    );
}

/** The op's pages of a file already in memory, CHUNK_PAGES at a time (progress as when streamed). */
function chunksOf(
  op: PlanOp,
  index: number,
  bytes: Uint8Array,
  each: (bytes: Uint8Array, gpa: number) => void,
): void {
  checkFileSize(op, index, bytes.length);
  const { offset } = op.file as NonNullable<PlanOp['file']>;
  for (let page = 0; page < op.pages; page += CHUNK_PAGES) {
    const end = Math.min(page + CHUNK_PAGES, op.pages);
    each(bytes.subarray(offset + page * PAGE_SIZE, offset + end * PAGE_SIZE), op.gpa + page * PAGE_SIZE);
  }
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
    checkFileSize(op, index, (await handle.stat()).size);
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
