import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { PlanError } from '../errors.js';
import { isContentMeasured, PageType } from '../pageType.js';
import { LaunchDigest, PAGE_BYTES, type PageHasher } from './launchDigest.js';
import type { PlanMeasurement } from './measurePlan.js';
import { type LaunchPlan, PLAN_OP_TYPES, type PlanOp, SeededPages } from './plan.js';

/** Pages read from a file at a time: 4 MiB of memory, however large the file. */
const CHUNK_PAGES = 1024;

export interface MeasureFilesOptions {
  /** Where file paths in the plan are relative to (the plan's directory). */
  readonly baseDir: string;
  /** Hash NORMAL file pages on worker threads (ParallelPageHasher); the digest is the same. */
  readonly hasher?: PageHasher;
  /** Called as pages are measured, for progress reports. */
  readonly onProgress?: (pagesDone: number, pagesTotal: number) => void;
}

/**
 * measurePlan for plans whose NORMAL ops may take their pages from files: each file is streamed in
 * 4 MiB chunks (in shared memory when a hasher is given), so a multi-GiB image costs a few MiB.
 */
export function measurePlanWithFiles(plan: LaunchPlan, options: MeasureFilesOptions): PlanMeasurement {
  const digest = new LaunchDigest();
  const seeded = new SeededPages(plan.seed);
  const page = Buffer.alloc(PAGE_BYTES);
  const total = plan.ops.reduce((n, op) => n + op.pages, 0);
  let done = 0;
  const chunk = new Uint8Array(
    options.hasher === undefined
      ? new ArrayBuffer(CHUNK_PAGES * PAGE_BYTES)
      : new SharedArrayBuffer(CHUNK_PAGES * PAGE_BYTES),
  );
  const steps = plan.ops.map((op, index) => {
    if (op.file !== undefined) {
      streamFile(op, index, options, chunk, (bytes, gpa) => {
        if (options.hasher === undefined) digest.updatePages(PageType.NORMAL, gpa, bytes);
        else digest.updatePagesParallel(options.hasher, PageType.NORMAL, gpa, bytes);
        done += bytes.length / PAGE_BYTES;
        options.onProgress?.(done, total);
      });
    } else {
      const type = PLAN_OP_TYPES[op.op];
      for (let i = 0; i < op.pages; i++) {
        digest.update(type, op.gpa + i * PAGE_BYTES, isContentMeasured(type) ? seeded.next(page) : undefined);
      }
      done += op.pages;
      options.onProgress?.(done, total);
    }
    return { op, digest: digest.hex() };
  });
  return { digest: digest.hex(), steps };
}

function streamFile(
  op: PlanOp,
  index: number,
  options: MeasureFilesOptions,
  chunk: Uint8Array,
  each: (bytes: Uint8Array, gpa: number) => void,
): void {
  const file = op.file as NonNullable<PlanOp['file']>;
  const where = `ops[${index}].file`;
  let fd: number;
  try {
    fd = openSync(resolve(options.baseDir, file.path), 'r');
  } catch (error) {
    throw new PlanError(
      where,
      `cannot open ${file.path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  try {
    const needed = file.offset + op.pages * PAGE_BYTES;
    const size = fstatSync(fd).size;
    if (size < needed)
      throw new PlanError(
        where,
        `${file.path} has ${size} bytes; ${op.pages} pages from offset ${file.offset} need ${needed}`,
      );
    for (let page = 0; page < op.pages; page += CHUNK_PAGES) {
      const bytes = chunk.subarray(0, Math.min(CHUNK_PAGES, op.pages - page) * PAGE_BYTES);
      for (let read = 0; read < bytes.length; ) {
        const n = readSync(fd, bytes, read, bytes.length - read, file.offset + page * PAGE_BYTES + read);
        if (n === 0) throw new PlanError(where, `${file.path} ended early`);
        read += n;
      }
      each(bytes, op.gpa + page * PAGE_BYTES);
    }
  } finally {
    closeSync(fd);
  }
}
