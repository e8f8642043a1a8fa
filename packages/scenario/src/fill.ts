import { SeededPages } from '@snp-ref/psp-firmware';
import { PAGE_SIZE } from '@snp-ref/rmp-core';
import type { ScenarioFile, ScenarioFiles } from './files.js';
import type { Step } from './schema.js';

type Fill = NonNullable<Extract<Step, { op: 'mmap' }>['fill']>;

/** The pages an mmap step writes, one after the other. */
export interface PageSource {
  next(): Uint8Array;
  close(): void;
}

/** Pages read from a file at a time: the file is never loaded whole. */
const CHUNK_PAGES = 256;

/**
 * Where an mmap's `fill` comes from: zeros, a seed's byte stream (README.md "Values"), or a file's
 * bytes from `offset`, zero past its end, read CHUNK_PAGES at a time and never more than the
 * mapping's pages. A message when the file cannot be read (or the scenario has no files).
 */
export function openFill(fill: Fill, files: ScenarioFiles | undefined): PageSource | string {
  if (fill === 'zero') return { next: () => new Uint8Array(PAGE_SIZE), close: () => {} };
  if ('seed' in fill) {
    const seeded = new SeededPages(fill.seed);
    return { next: () => seeded.next(), close: () => {} };
  }
  if (files === undefined) return `fill from ${fill.file}: this run reads no files`;
  let file: ScenarioFile;
  try {
    file = files.open(fill.file);
  } catch (error) {
    return `fill from ${fill.file}: ${(error as Error).message}`;
  }
  let offset = fill.offset ?? 0;
  let chunk: Uint8Array = new Uint8Array(0);
  let at = 0;
  let ended = false; // a short read is the end of the file: zero pages from there, no more reads
  return {
    next() {
      if (at >= chunk.length && !ended) {
        chunk = file.read(offset, CHUNK_PAGES * PAGE_SIZE);
        ended = chunk.length < CHUNK_PAGES * PAGE_SIZE;
        offset += CHUNK_PAGES * PAGE_SIZE;
        at = 0;
      }
      const page = new Uint8Array(PAGE_SIZE);
      page.set(chunk.subarray(at, at + PAGE_SIZE));
      at += PAGE_SIZE;
      return page;
    },
    close: () => file.close(),
  };
}
