import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { snpRef } from '../snpRefRun.js';

describe('snp-ref fuzz --jobs', () => {
  it('prints the report of one process, from shards run in processes of their own', async () => {
    const campaign = ['fuzz', '--runs', '12', '--seed', '5', '--steps', '20'];
    const [alone, inThree] = await Promise.all([snpRef(campaign), snpRef([...campaign, '--jobs', '3'])]);
    expect(alone.stdout).toMatch(/^ok: 12 sequences, 240 steps/);
    expect(inThree).toEqual(alone);
  });

  it('reports the failure of the earliest sequence, written where --out says, and no other', async () => {
    const out = mkdtempSync(join(tmpdir(), 'snp-ref-fuzz-jobs-'));
    const failed = await snpRef([
      'fuzz',
      '--self-test',
      '--runs',
      '4',
      '--jobs',
      '2',
      '--out',
      out,
      '--json',
    ]);
    expect(failed.status).toBe(1);
    const { failure } = JSON.parse(failed.stdout);
    expect(failure).toMatchObject({ seed: 1, rule: 'pinned-pages-released-dirty' });
    expect(readdirSync(out)).toEqual(['fuzz-failure-1.json']);
    const alone = mkdtempSync(join(tmpdir(), 'snp-ref-fuzz-alone-'));
    await snpRef(['fuzz', '--self-test', '--runs', '4', '--out', alone]);
    expect(readFileSync(failure.scenario, 'utf8')).toBe(
      readFileSync(join(alone, 'fuzz-failure-1.json'), 'utf8'),
    );
  });

  it('refuses --jobs with --shard (exit 2)', async () => {
    const { status, stderr } = await snpRef(['fuzz', '--jobs', '2', '--shard', '0/2']);
    expect(status).toBe(2);
    expect(stderr).toContain('--jobs and --shard');
  });
});
