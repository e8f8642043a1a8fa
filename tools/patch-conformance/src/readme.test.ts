import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

/**
 * The README's ```text blocks, each as its lines with the snp-conform arguments it shows the output
 * of: those of an `<!-- output of snp-conform ARGS -->` line right before it, else patches/v4.patch.
 */
function textBlocks(markdown: string): { args: string; lines: string[] }[] {
  return [...markdown.matchAll(/(?:<!-- output of snp-conform (.*) -->\n)?```text\n([\s\S]*?)```/g)].map(
    ([, args, body]) => ({ args: args ?? 'patches/v4.patch', lines: (body ?? '').trimEnd().split('\n') }),
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
  const outputs = new Map<string, ReturnType<typeof snpConform>>();
  beforeAll(() => {
    for (const { args } of blocks) if (!outputs.has(args)) outputs.set(args, snpConform(args.split(' ')));
  }, 120_000);

  it('has text blocks, and snp-conform exits 1 on the v4 patch', () => {
    expect(blocks.length).toBeGreaterThan(0);
    expect(outputs.get('patches/v4.patch')?.status).toBe(1);
  });

  it.each(blocks.map((b, i) => [i, b.args, b.lines] as const))(
    'text block %i is what `snp-conform %s` prints',
    (_, args, block) => {
      const stdout = outputs.get(args)?.stdout ?? '';
      const found = containsRun(stdout.split('\n'), block);
      expect(found, `README block:\n${block.join('\n')}\n\nsnp-conform printed:\n${stdout}`).toBe(true);
    },
  );
});
