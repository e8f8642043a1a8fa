// The model side of the dynamic rule: a scenario run through @snp-ref/scenario, printed in the
// harness's canonical lines, together with the lines that make the C harness run the same launch.

import { Errno, PAGE_SIZE, type RmpEntry, TraceRing } from '@snp-ref/rmp-core';
import {
  injectionCode,
  PAGE_TYPES,
  type Scenario,
  ScenarioSession,
  type Step,
  type StepResult,
} from '@snp-ref/scenario';

/** The harness's host (MAX_PAGES in shim/harness.c). */
const HARNESS_PAGES = 4096;

/** A scenario the harness can run: its input lines for the C side, and the model's canonical trace. */
export interface HarnessRun {
  readonly name: string;
  readonly input: readonly string[];
  readonly expected: readonly string[];
}

/** The harness's numbers: hex digits without 0x (shim/harness.c reads them with base 16). */
const hex = (n: number) => n.toString(16);
const entryLine = (e: RmpEntry) =>
  `A=${Number(e.assigned)} ASID=${e.asid} GPA=0x${hex(e.gpa)} IMM=${Number(e.immutable)} V=${Number(e.validated)}`;

/**
 * How the harness takes a step: a line of its input, `quiet` (the model runs it, but the harness
 * models KVM's launch updates only, so what it changes is not compared), `drop` (the uAPI cannot
 * express it), or why the scenario does not apply.
 */
type Taken = { readonly line: string } | 'quiet';
type Translation = Taken | 'drop' | { readonly notApplicable: string };

function translate(step: Step): Translation {
  switch (step.op) {
    case 'vm.create':
      return { line: 'asid' }; // completed with the ASID the model gave the VM
    case 'snp.launch_start':
    case 'rmp.query':
    case 'hv.read':
    case 'guest.read':
      return 'quiet';
    case 'mmap':
      return { line: `map ${hex(step.hva)} ${hex(step.pfn)} ${step.pages}` };
    case 'memslot.set':
      return { line: `slot ${step.slot} ${hex(step.gpa)} ${hex(step.hva)} ${step.size}` };
    case 'snp.launch_update':
      // The uAPI carries a guest frame number: an unaligned gpa cannot be expressed.
      if (step.gpa % PAGE_SIZE !== 0) return 'drop';
      return {
        line: `call ${hex(step.gpa / PAGE_SIZE)} ${hex(step.hva)} ${step.len} ${PAGE_TYPES[step.type] ?? 0}`,
      };
    case 'snp.launch_finish':
      return { line: 'finish' };
    case 'inject':
      return {
        line: `inject ${step.at === 'rmpupdate' ? 'rmpupdate' : 'psp'} ${step.nth} ${injectionCode(step) ?? 0}`,
      };
    case 'hv.rmpupdate': {
      const e = step.entry;
      if (e.pageSize !== '4K') return { notApplicable: 'a 2 MiB RMP entry (the harness models 4 KiB pages)' };
      return {
        line: `rmp ${hex(step.pfn)} ${Number(e.assigned)} ${e.asid} ${hex(e.gpa)} ${Number(e.immutable)} 0`,
      };
    }
    default:
      return { notApplicable: `step ${step.op} (the harness models KVM's launch updates only)` };
  }
}

/**
 * Runs `scenario` on the reviewed model (the reference every patch is held to, whatever ABI the
 * scenario names) and returns the harness input and the model's trace, or why the harness cannot
 * run it: one VM, a host of at most 4096 pages, host-side and launch steps only.
 */
export function harnessRun(name: string, scenario: Scenario): HarnessRun | string {
  const creates = scenario.steps.filter((s) => s.op === 'vm.create').length;
  if (creates !== 1) return `${creates} VMs (the harness runs one)`;
  if (scenario.host.pages > HARNESS_PAGES)
    return `a host of ${scenario.host.pages} pages (the harness has ${HARNESS_PAGES})`;
  const plan: { step: Step; how: Taken }[] = [];
  let started = false;
  for (const step of scenario.steps) {
    const how = translate(step);
    if (typeof how === 'object' && 'notApplicable' in how) return how.notApplicable;
    started ||= step.op === 'snp.launch_start';
    // The harness's VM is launching from its first line: an update before LAUNCH_START has no counterpart.
    if (how === 'drop' || (step.op === 'snp.launch_update' && !started)) continue;
    plan.push({ step, how });
  }
  const reject = scenario.kvm?.rejectAssignedOnUpdate === true;
  const ring = new TraceRing(1 << 16);
  const session = new ScenarioSession(
    { host: scenario.host, kvm: { abi: 'reviewed', rejectAssignedOnUpdate: reject } },
    ring,
  );
  const input = [`reject ${Number(reject)}`];
  const expected: string[] = [];
  for (const { step, how } of plan) {
    const result = session.run(step);
    if (how !== 'quiet') {
      input.push(how.line === 'asid' ? `asid ${result.ok ? (result.asid ?? 0) : 0}` : how.line);
      for (const e of ring.events())
        if (entryLine(e.old) !== entryLine(e.new))
          expected.push(`rmp pfn=0x${hex(e.pfn)} old=${entryLine(e.old)} new=${entryLine(e.new)}`);
    }
    ring.clear();
    if (step.op === 'snp.launch_update') expected.push(...callOutcome(session, step, result));
  }
  return { name, input, expected };
}

/** After a launch update: the pages it leaked, the pages it released (with their marks), its result. */
function callOutcome(
  session: ScenarioSession,
  step: Extract<Step, { op: 'snp.launch_update' }>,
  result: StepResult,
): string[] {
  const errno = result.ok ? undefined : result.errno;
  const lines = (result.leaked ?? []).map((pfn) => `leak pfn=0x${hex(pfn)}`);
  // Pages were pinned unless the call stopped before pinning (EINVAL, or EFAULT from the pin itself).
  const pinned = result.ok || errno === 'EIO' || errno === 'EBUSY' || result.rmpRet !== undefined;
  const vm = session.kvm.vm(step.vm);
  for (let i = 0; pinned && vm !== undefined && i < step.len / PAGE_SIZE; i++) {
    const pfn = vm.addressSpace.translate(step.hva + i * PAGE_SIZE) ?? 0;
    const pages = session.machine.pages;
    lines.push(
      `release pfn=0x${hex(pfn)} dirty=${Number(pages.isDirty(pfn))} accessed=${Number(pages.isAccessed(pfn))}`,
    );
  }
  lines.push(`result ret=${result.ok ? 0 : -Errno[errno ?? 'EINVAL']}`);
  return lines;
}
