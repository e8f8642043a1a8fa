import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

/** The README's ```text blocks, each as its lines. */
function textBlocks(markdown: string): string[][] {
  return [...markdown.matchAll(/```text\n([\s\S]*?)```/g)].map(([, body]) =>
    (body ?? '').trimEnd().split('\n'),
  );
}

/** Whether `block` occurs in `lines` as a contiguous run of whole lines. */
function containsRun(lines: readonly string[], block: readonly string[]): boolean {
  return lines.some((_, start) => block.every((line, i) => lines[start + i] === line));
}

/** Runs snp-conform as a user would from the repository root: a separate Node process, exit code and both streams. */
function snpConform(args: readonly string[]) {
  const bin = 'tools/patch-conformance/bin/snp-conform.js';
  const run = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('tools/patch-conformance/README.md', () => {
  const blocks = textBlocks(readFileSync(join(import.meta.dirname, '../README.md'), 'utf8'));
  let v4: ReturnType<typeof snpConform>;
  beforeAll(() => {
    v4 = snpConform(['patches/v4.patch']);
  }, 60_000);

  it('has text blocks, and snp-conform exits 1 on the v4 patch', () => {
    expect(blocks.length).toBeGreaterThan(0);
    expect(v4.status, v4.stderr).toBe(1);
  });

  it.each(blocks.map((b, i) => [i, b] as const))(
    'text block %i is what `snp-conform patches/v4.patch` prints',
    (_, block) => {
      const found = containsRun(v4.stdout.split('\n'), block);
      expect(found, `README block:\n${block.join('\n')}\n\nsnp-conform printed:\n${v4.stdout}`).toBe(true);
    },
  );
});
