import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogStep } from './measureLog.js';
import { measureOvmfArgs, snpRef } from './snpRefRun.js';

const launch = measureOvmfArgs('/usr/share/ovmf/OVMF.fd');

describe('snp-ref measure --log', () => {
  it('writes one JSON line per measured page: a chain from zero to the digest', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'snp-ref-log-')), 'launch.jsonl');
    const { stdout } = await snpRef([...launch, '--log', file]);
    const steps = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as LogStep);
    expect(steps).toHaveLength(512 + 9 + 3 + 1 + 1 + 17 + 2);
    expect(steps[0]?.before).toBe('0'.repeat(96));
    steps.forEach((s, i) => {
      expect(s.index).toBe(i);
      if (i > 0) expect(s.before).toBe(steps[i - 1]?.after);
    });
    expect(`${steps.at(-1)?.after}\n`).toBe(stdout);
    expect(steps[512]).toMatchObject({ op: 1, gpa: '0x800000', type: 'ZERO', contents: '0'.repeat(96) });
    expect(steps.at(-1)).toMatchObject({
      type: 'VMSA',
      gpa: '0xfffffffff000',
      vmsa: { rip: '0xb004', sev_features: '0x1' },
    });
  });

  it('prints a table for a person, on stdout with - (and no digest line)', async () => {
    const lines = (await snpRef([...launch, '--log', '-', '--format', 'table'])).stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ +step +op +gpa +type +contents +digest after$/);
    expect(lines[1]).toMatch(/^ +0 +0 +0xffe00000 +NORMAL +[0-9a-f]{16}… +[0-9a-f]{16}…$/);
    expect(lines.at(-1)).toMatch(/^ +544 +7 +0xfffffffff000 +VMSA/);
    expect(await snpRef([...launch, '--log', '-', '--format', 'xml'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--format: expected json or table, got xml/),
    });
  });
});
