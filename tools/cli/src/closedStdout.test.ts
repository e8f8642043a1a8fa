import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bin } from './snpRefProcess.js';

/**
 * Runs snp-ref as `snp-ref … | head` does: a real pipe on stdout, closed by the reader after its
 * first chunk. Every output here is many times a pipe's 64 KiB, so the process is still writing.
 */
function readFirstChunkThenClose(args: readonly string[], input = '') {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let first = '';
  let stderr = '';
  child.stdout.once('data', (chunk: Buffer) => {
    first = chunk.toString('utf8');
    child.stdout.destroy();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdin.end(input);
  return new Promise<{ status: number | null; first: string; stderr: string }>((resolve) =>
    child.on('close', (status) => resolve({ status, first, stderr })),
  );
}

/** A scenario of many RMPUPDATEs: a long result and a long trace (2 MB). */
const busyScenario = JSON.stringify({
  scenario: 1,
  host: { pages: 4096 },
  steps: Array.from({ length: 1500 }, (_, pfn) => ({
    op: 'hv.rmpupdate',
    pfn,
    entry: { assigned: true, asid: 1, gpa: pfn * 4096, pageSize: '4K', immutable: false },
  })),
});

describe('a reader that closes stdout early (snp-ref … | head)', () => {
  it.each([
    ['run - --trace perfetto', ['run', '-', '--trace', 'perfetto'], busyScenario, /^\{\n {2}"scenario": 1/],
    [
      'measure --log -',
      ['measure', '--plan', '-', '--log', '-'],
      JSON.stringify({ name: 'zeros', seed: 's', ops: [{ op: 'zero', gpa: '0x0', pages: 20_000 }] }),
      /^\{"index":0,"op":0,/,
    ],
  ])('%s: stops quietly with 141, as a writer SIGPIPE kills', async (_, args, input, start) => {
    const { status, first, stderr } = await readFirstChunkThenClose(args, input);
    expect(first).toMatch(start);
    expect(stderr).toBe('');
    expect(status).toBe(141);
  });
});
