import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conform } from './conform.js';
import { RULES } from './rules/rules.js';

const root = resolve(import.meta.dirname, '../../..');
const patch = (name: string) => join(root, 'patches', name);

describe('snp-conform static rules', () => {
  it('finds nothing wrong between the reviewed patch and the TS model, with every annotation paired', async () => {
    const report = await conform(root, patch('reviewed.patch'));
    expect(report.findings).toEqual([]);
    expect([...report.paired].sort()).toEqual([
      'kvm.revert_touched',
      'kvm.snp_launch_update',
      'uapi.kvm_sev_snp_launch_update',
      'virt.reset_to_hypervisor',
      'virt.rmpupdate',
    ]);
  });

  it('reports the v4 patch and the v4 model on every point the review raised', async () => {
    const report = await conform(root, patch('v4.patch'));
    const rules = new Set(report.findings.map((f) => f.rule));
    expect([...rules].sort()).toEqual([
      'dirty-accessed-unpin',
      'four-kib-only',
      'no-memslot-srcu',
      'revert-only-touched',
    ]);
    // Every rule fires on both sides, each finding located: C in the patch, TS in the model.
    for (const rule of rules) {
      const sides = new Set(
        report.findings.filter((f) => f.rule === rule).map((f) => (f.c === undefined ? 'ts' : 'c')),
      );
      expect([...sides].sort(), rule).toEqual(['c', 'ts']);
    }
    expect(report.findings.every((f) => (f.c?.line ?? 1) > 0 && (f.ts?.line ?? 1) > 0)).toBe(true);
    const purge = report.findings.find((f) => f.rule === 'revert-only-touched' && f.c !== undefined);
    expect(purge?.c?.line).toBe(78); // v4.patch: the e_purge loop
  });

  it.each(RULES.map((r) => [r.id, r] as const))(
    '%s is not vacuous: without it, v4 loses its findings',
    async (id) => {
      const without = await conform(
        root,
        patch('v4.patch'),
        RULES.filter((r) => r.id !== id),
      );
      expect(without.findings.some((f) => f.rule === id)).toBe(false);
      const withIt = await conform(root, patch('v4.patch'));
      expect(withIt.findings.some((f) => f.rule === id)).toBe(true);
    },
  );
});
