import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conform } from './conform.js';

const root = resolve(import.meta.dirname, '../../..');
const patch = (name: string) => join(root, 'patches', name);
const PATH_RULES = ['dirty-accessed-unpin', 'four-kib-only', 'no-memslot-srcu', 'revert-only-touched'];

describe('snp-conform static rules', () => {
  it('finds nothing wrong between the reviewed patch and the TS model, with every annotation paired', async () => {
    const report = await conform(root, patch('reviewed.patch'));
    expect(report.findings).toEqual([]);
    expect(report.paired.map((p) => p.entity).sort()).toEqual([
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
    expect([...rules].sort()).toEqual([...PATH_RULES, 'uapi-hva-and-gpa'].sort());
    // Each path rule fires on both sides, each finding located: C in the patch, TS in the model.
    for (const rule of PATH_RULES) {
      const sides = new Set(
        report.findings.filter((f) => f.rule === rule).map((f) => (f.c === undefined ? 'ts' : 'c')),
      );
      expect([...sides].sort(), rule).toEqual(['c', 'ts']);
    }
    expect(report.findings.every((f) => (f.c?.line ?? 1) > 0 && (f.ts?.line ?? 1) > 0)).toBe(true);
    const purge = report.findings.find((f) => f.rule === 'revert-only-touched' && f.c !== undefined);
    expect(purge?.c).toEqual({ file: 'patches/v4.patch', line: 78 }); // the e_purge loop
  });

  it("runs the reviewed patch's C and the model on every shared scenario with identical traces", async () => {
    const report = await conform(root, patch('reviewed.patch'), [], { dynamic: true });
    expect(report.findings).toEqual([]);
  });

  it("shows where the v4 patch's C first departs from the model, quoting both sides", async () => {
    const report = await conform(root, patch('v4.patch'), [], { dynamic: true });
    const midway = report.findings.find((f) => f.message.startsWith('scenario 02-firmware-fails-midway'));
    expect(midway?.message).toMatch(/C: rmp pfn=0x10 .*new=A=0 .* \| TS: rmp pfn=0x12 old=.*IMM=1/);
    expect(
      report.findings.every((f) => f.rule === 'dynamic-trace' && f.c !== undefined && f.ts !== undefined),
    ).toBe(true);
  });
});

describe('the upstream flow (patches/upstream.patch, Linux 6.11 as merged)', () => {
  it('breaks review point 1 only, by a memslot lookup it makes under kvm->slots_lock; its C and the upstream model trace alike', async () => {
    const report = await conform(root, patch('upstream.patch'), undefined, { dynamic: true });

    expect(report.flavour).toBe('upstream');
    const inPatch = report.findings.filter((f) => f.c !== undefined);
    // No dynamic-trace finding: every upstream scenario and failure path agrees (dynamic/upstream.test.ts breaks it).
    expect(inPatch.map((f) => f.rule)).toEqual(['no-memslot-srcu']);
    expect(inPatch[0]?.quote).toBe('+\tmemslot = gfn_to_memslot(kvm, params.gfn_start);');
    expect(inPatch[0]?.message).toMatch(/under kvm->slots_lock: no memslot can change while it looks/);
    expect(report.notes).toEqual([]);
    // Every kernel API it calls is in the patch or the rules' catalogue: nothing left unanalysed.
    expect(report.notAnalysed).toEqual([]);
  });
});
