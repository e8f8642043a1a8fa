import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PAGE_SIZE } from '@snp-ref/rmp-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlanError } from '../errors.js';
import { measurePlan } from './measurePlan.js';
import { measurePlanWithFiles } from './measurePlanFiles.js';
import { ParallelPageHasher } from './parallelPageHasher.js';
import { type LaunchPlan, parseLaunchPlan, SeededPages } from './plan.js';

const dir = mkdtempSync(join(tmpdir(), 'plan-files-'));
const PAGES = 2100; // more than one 1024-page chunk, not a multiple of it
const seeded = new SeededPages('image');
const image = Buffer.concat([
  Buffer.alloc(PAGE_SIZE, 0xee),
  ...Array.from({ length: PAGES }, () => seeded.next()),
]);
writeFileSync(join(dir, 'image.bin'), image);

const withFile = (extra: object = {}): LaunchPlan =>
  parseLaunchPlan({
    name: 'file',
    seed: 'other',
    ops: [
      { op: 'normal', gpa: '0xffe00000', pages: PAGES, file: 'image.bin', offset: PAGE_SIZE, ...extra },
      { op: 'normal', gpa: '0x0', pages: 1 },
      { op: 'zero', gpa: '0x1000', pages: 2 },
    ],
  });

describe('measurePlanWithFiles', () => {
  let hasher: ParallelPageHasher;
  beforeAll(async () => {
    hasher = await ParallelPageHasher.create(1);
  });
  afterAll(() => hasher.close());

  it('measures file pages exactly as the same pages given by the seed stream, serially and in parallel', async () => {
    // 'image' seeds the file; a plan whose first op uses that seed is the same launch.
    const seededPlan: LaunchPlan = {
      name: 's',
      seed: 'image',
      ops: [{ op: 'normal', gpa: 0xffe0_0000, pages: PAGES }],
    };
    const fileOnly = parseLaunchPlan({
      name: 'f',
      seed: '',
      ops: [{ op: 'normal', gpa: '0xffe00000', pages: PAGES, file: 'image.bin', offset: PAGE_SIZE }],
    });
    const expected = measurePlan(seededPlan).digest;
    expect((await measurePlanWithFiles(fileOnly, { baseDir: dir })).digest).toBe(expected);
    expect((await measurePlanWithFiles(fileOnly, { baseDir: dir, hasher })).digest).toBe(expected);
  });

  it('keeps the seed stream for the ops without a file, and reports progress', async () => {
    const progress: number[] = [];
    const result = await measurePlanWithFiles(withFile(), {
      baseDir: dir,
      onProgress: (done) => progress.push(done),
    });
    expect(result.steps).toHaveLength(3);
    expect(progress.at(-1)).toBe(PAGES + 3);
    expect(progress.length).toBeGreaterThan(3);
  });

  it('names a missing file, a file too short and a file on a non-normal op', async () => {
    await expect(measurePlanWithFiles(withFile({ file: 'nope.bin' }), { baseDir: dir })).rejects.toThrow(
      'ops[0].file: cannot open nope.bin (ENOENT)',
    );
    await expect(measurePlanWithFiles(withFile({ offset: 2 * PAGE_SIZE }), { baseDir: dir })).rejects.toThrow(
      PlanError,
    );
    await expect(measurePlanWithFiles(withFile({ offset: 2 * PAGE_SIZE }), { baseDir: dir })).rejects.toThrow(
      /has \d+ bytes; 2100 pages from offset 8192 need/,
    );
    expect(() =>
      parseLaunchPlan({ name: 'p', seed: '', ops: [{ op: 'zero', gpa: '0x0', pages: 1, file: 'x' }] }),
    ).toThrow('ops[0].file: only normal pages take their contents from a file');
    expect(() => measurePlan(withFile())).toThrow('ops[0].file: file contents need measurePlanWithFiles');
  });

  it('measures a file already read from those bytes, not the file (what the metadata was parsed from)', async () => {
    const other = Buffer.from(image);
    other.fill(0x5a, PAGE_SIZE, 2 * PAGE_SIZE); // the file changed after it was read
    const fromFile = measurePlanWithFiles(withFile(), { baseDir: dir });
    const fromMemory = await measurePlanWithFiles(withFile(), {
      baseDir: dir,
      loaded: new Map([['image.bin', image]]),
    });
    expect(fromMemory).toEqual(await fromFile);
    const changed = await measurePlanWithFiles(withFile(), {
      baseDir: dir,
      loaded: new Map([['image.bin', other]]),
    });
    expect(changed.digest).not.toBe(fromMemory.digest);
    const changedInParallel = await measurePlanWithFiles(withFile(), {
      baseDir: dir,
      hasher,
      loaded: new Map([['image.bin', other]]),
    });
    expect(changedInParallel).toEqual(changed);
    await expect(
      measurePlanWithFiles(withFile(), {
        baseDir: dir,
        loaded: new Map([['image.bin', image.subarray(0, PAGE_SIZE * 2)]]),
      }),
    ).rejects.toThrow('ops[0].file: image.bin has 8192 bytes; 2100 pages from offset 4096 need');
  });
});
