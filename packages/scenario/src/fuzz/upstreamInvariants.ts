// The upstream ABI's promises around one snp.launch_update (docs/spec-notes.md §3.3, §4): only the
// pages the call did change for good, and each of those is private and measured; the page it
// stopped at is given back (or leaked); the VMM's source pages never change owner.
import type { SnpVm } from '@snp-ref/kvm-svm';
import { entryText, hex, PAGE_SIZE } from '@snp-ref/rmp-core';
import type { Step } from '../schema.js';
import type { ScenarioSession, StepResult } from '../session.js';

type Rule =
  | 'upstream-done-pages-private'
  | 'upstream-call-changes-only-its-pages'
  | 'upstream-source-never-converted';

/** One page of the call's range: its gfn, the guest_memfd page behind it and the source page. */
export interface UpstreamPage {
  readonly gpa: number;
  readonly gmemPfn: number | undefined;
  readonly sourcePfn: number | undefined;
  readonly contents: Uint8Array | undefined;
}

/** The pages of an upstream launch update, as the checker sees them before the call. */
export function upstreamRange(
  session: ScenarioSession,
  vm: SnpVm,
  step: Extract<Step, { op: 'snp.launch_update' }>,
  pages: number,
): UpstreamPage[] {
  return Array.from({ length: pages }, (_, i) => {
    const gpa = step.gpa + i * PAGE_SIZE;
    const slot = vm.memslots.byGpa(gpa);
    const gmemPfn = slot?.gmem?.file.pfnAt((gpa - slot.gpa + slot.gmem.offset) / PAGE_SIZE);
    const sourcePfn = vm.addressSpace.translate(step.hva + i * PAGE_SIZE);
    const contents =
      sourcePfn === undefined ? undefined : new Uint8Array(session.machine.memory.peek(sourcePfn));
    return { gpa, gmemPfn, sourcePfn, contents };
  });
}

/** What the host was before the step (hostChanges.ts). */
interface Before {
  /** The pages that may have changed, in ascending order: every other page did not. */
  changed(): readonly number[];
  entryChanged(pfn: number): boolean;
  contentsChanged(pfn: number): boolean;
}

/**
 * The upstream promises after the call: `done` pages (the result's `pages`) are the VM's, at their
 * gpa, validated and mutable; nothing else changed but the guest_memfd page the call stopped at
 * (its contents; its entry only back to unassigned, or leaked) and, for a CPUID page the firmware
 * corrected, its source page's contents; no source page changed owner.
 */
export function upstreamViolations(
  session: ScenarioSession,
  vm: SnpVm,
  range: readonly UpstreamPage[],
  result: StepResult,
  before: Before,
): { rule: Rule; message: string }[] {
  const { rmp, pages } = session.machine;
  const done = result.ok ? (result.pages ?? 0) : 0;
  const violations: { rule: Rule; message: string }[] = [];
  const own = new Set<number>();
  for (const page of range.slice(0, done)) {
    const pfn = page.gmemPfn;
    if (pfn === undefined) continue;
    own.add(pfn);
    const e = rmp.read(pfn);
    if (!e.assigned || e.asid !== vm.asid || e.gpa !== page.gpa || !e.validated || e.immutable)
      violations.push({
        rule: 'upstream-done-pages-private',
        message: `pfn ${hex(pfn)}, populated at gpa ${hex(page.gpa)}, is ${entryText(e)}`,
      });
  }
  const stoppedAt = done < range.length ? range[done] : undefined;
  const stopPfn = stoppedAt?.gmemPfn;
  const cpuidSource = stoppedAt?.sourcePfn;
  for (const pfn of before.changed()) {
    if (own.has(pfn)) continue;
    const entryOk =
      !before.entryChanged(pfn) || (pfn === stopPfn && (!rmp.read(pfn).assigned || pages.leaked.has(pfn)));
    const contentsOk = !before.contentsChanged(pfn) || pfn === stopPfn || pfn === cpuidSource;
    if (!entryOk || !contentsOk)
      violations.push({
        rule: 'upstream-call-changes-only-its-pages',
        message: `pfn ${hex(pfn)} changed (${entryOk ? 'contents' : 'RMP entry'}), though the call did not populate it`,
      });
  }
  for (const { sourcePfn } of range)
    if (sourcePfn !== undefined && !own.has(sourcePfn) && before.entryChanged(sourcePfn))
      violations.push({
        rule: 'upstream-source-never-converted',
        message: `source pfn ${hex(sourcePfn)} changed owner: ${entryText(rmp.read(sourcePfn))}`,
      });
  return violations;
}
