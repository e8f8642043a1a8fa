// The model side of the dynamic rule: a scenario run through @snp-ref/scenario, printed in the
// harness's canonical lines, together with the lines that make the C harness run the same launch.

import { FAULT_SITES, type FaultSite, isCodedSite } from '@snp-ref/kvm-svm';
import { Errno, PAGE_SIZE, type RmpEntry, TraceRing } from '@snp-ref/rmp-core';
import {
  injectionCode,
  PAGE_TYPES,
  type Scenario,
  ScenarioSession,
  type Step,
  type StepResult,
} from '@snp-ref/scenario';
import type { LaunchUpdateCall } from './uapi.js';

/** The harness's host (MAX_PAGES in shim/harness.c). */
const HARNESS_PAGES = 4096;
/**
 * The model's trace ring, emptied after every step: a step changes at most 4 entries per page it
 * updates, and the ring costs time to allocate for each of the hundreds of failure paths.
 */
const RING_EVENTS = 1 << 14;

/** A run of the harness: its input lines for the C side, and the model's canonical trace. */
export interface HarnessRun {
  readonly name: string;
  /** The single injected failure this run walks, in words; absent for the scenario as written. */
  readonly path?: string;
  /** The injection as the harness reports it when no call reached it (`unfired SITE NTH`). */
  readonly unfired?: string;
  readonly input: readonly HarnessLine[];
  /** The model's canonical trace; absent on a failure path the model has no counterpart for (cOnlyRuns). */
  readonly expected?: readonly string[];
  /** On the scenario as written: the model's calls per fault site, and where the input takes an `inject` line. */
  readonly walk?: { readonly calls: Readonly<Record<FaultSite, number>>; readonly at: number };
}

/** A line of the harness's input; a launch update's is written per flavour (uapi.ts callLine). */
export type HarnessLine = string | LaunchUpdateCall;

/** The harness's numbers: hex digits without 0x (shim/harness.c reads them with base 16). */
const hex = (n: number) => n.toString(16);
const entryLine = (e: RmpEntry) =>
  `A=${Number(e.assigned)} ASID=${e.asid} GPA=0x${hex(e.gpa)} IMM=${Number(e.immutable)} V=${Number(e.validated)}`;

/**
 * How the harness takes a step: a line of its input, `quiet` (the model runs it, but the harness
 * models KVM's launch updates only, so what it changes is not compared), `drop` (the uAPI cannot
 * express it), or why the scenario does not apply.
 */
type Taken = { readonly line: HarnessLine } | 'quiet';
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
      // The uAPI carries a guest frame number: an unaligned gpa cannot be expressed; nor can a
      // type name the scenario format does not know (the session refuses it before KVM runs).
      if (step.gpa % PAGE_SIZE !== 0 || PAGE_TYPES[step.type] === undefined) return 'drop';
      return {
        line: { gfn: step.gpa / PAGE_SIZE, uaddr: step.hva, len: step.len, type: PAGE_TYPES[step.type] ?? 0 },
      };
    case 'snp.launch_finish':
      return { line: 'finish' };
    case 'inject':
      return { line: `inject ${HARNESS_SITE[step.at]} ${step.nth} ${injectionCode(step) ?? 0}` };
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

/** The harness's names of the fault sites (shim/harness.c site_names). */
const HARNESS_SITE: Record<FaultSite, string> = {
  'psp.launch_update': 'psp',
  rmpupdate: 'rmpupdate',
  pin: 'pin',
  alloc: 'alloc',
  copy_from_user: 'copy_from_user',
  copy_to_user: 'copy_to_user',
};

/** How a failure path is named in findings, and the code a coded site fails with. */
const WALKED: Record<FaultSite, { what: string; error?: string }> = {
  'psp.launch_update': { what: 'the firmware (SNP_LAUNCH_UPDATE)', error: 'INVALID_PAGE_STATE' },
  rmpupdate: { what: 'rmpupdate()', error: 'FAIL_INUSE' },
  pin: { what: 'pinning a page' },
  alloc: { what: 'an allocation' },
  copy_from_user: { what: 'copy_from_user()' },
  copy_to_user: { what: 'copy_to_user()' },
};

/** A clean run of a scenario on the model: what the harness gets, what the model printed, calls per site from the first update and the input line of that update. */
interface ModelRun {
  readonly input: HarnessLine[];
  readonly expected: string[];
  readonly calls: Record<FaultSite, number>;
  readonly firstUpdate: number;
}

/** The `inject` step that fails call `nth` at `site`, its harness line, and how the walk names it. */
function injection(site: FaultSite, nth: number) {
  const { what, error } = WALKED[site];
  const step: Step = { op: 'inject', at: site, nth, ...(isCodedSite(site) && { error }) };
  return {
    step,
    how: translate(step) as { readonly line: HarnessLine },
    path: `${what} fails at call ${nth}`,
    unfired: `unfired ${HARNESS_SITE[site]} ${nth}`,
  };
}

/**
 * The scenario as written, then once per single injected failure: for each fault site, each call
 * the model makes there from the scenario's first launch update on (counted in the clean run) is
 * made to fail in turn, by an `inject` step right before that update. Each path runs on the model
 * here; the harness runs the same steps. A string says why the harness cannot run the scenario.
 */
export function harnessRuns(name: string, scenario: Scenario): HarnessRun[] | string {
  const plan = harnessPlan(scenario);
  if (typeof plan === 'string') return plan;
  const clean = runOnModel(scenario, plan);
  const first = plan.findIndex(({ step }) => step.op === 'snp.launch_update');
  const runs: HarnessRun[] = [
    {
      name,
      input: clean.input,
      expected: clean.expected,
      ...(first >= 0 && { walk: { calls: clean.calls, at: clean.firstUpdate } }),
    },
  ];
  for (const site of first < 0 ? [] : FAULT_SITES) {
    for (let nth = 1; nth <= clean.calls[site]; nth++) {
      const { step, how, path, unfired } = injection(site, nth);
      const run = runOnModel(scenario, [...plan.slice(0, first), { step, how }, ...plan.slice(first)]);
      runs.push({ name, path, unfired, input: run.input, expected: run.expected });
    }
  }
  return runs;
}

/**
 * The most calls beyond the model's that the walk fails at one site of one scenario: a patch's C
 * whose clean run calls a site thousands of times would otherwise cost thousands of runs.
 */
export const C_ONLY_PER_SITE = 64;

/**
 * The failure paths only the patch's C has: each call its clean run made at a fault site (`calls`
 * as its harness reported them, shim/harness.c) beyond those the model made there, failed in turn
 * on the C alone (at most C_ONLY_PER_SITE per site). No model trace to compare: only the end state
 * is checked (index.ts).
 */
export function cOnlyRuns(clean: HarnessRun, calls: Readonly<Record<FaultSite, number>>): HarnessRun[] {
  const { walk } = clean;
  if (walk === undefined) return [];
  return FAULT_SITES.flatMap((site) =>
    Array.from({ length: Math.min(C_ONLY_PER_SITE, Math.max(0, calls[site] - walk.calls[site])) }, (_, i) => {
      const { how, path, unfired } = injection(site, walk.calls[site] + i + 1);
      const input = [...clean.input.slice(0, walk.at), how.line, ...clean.input.slice(walk.at)];
      return { name: clean.name, path: `${path} (no counterpart in the model)`, unfired, input };
    }),
  );
}

/** The calls per fault site a harness run reports (`calls psp=N rmpupdate=N …`), or undefined if it has no such line. */
export function harnessCalls(lines: readonly string[]): Record<FaultSite, number> | undefined {
  const line = lines.find((l) => l.startsWith('calls '));
  if (line === undefined) return undefined;
  const counts = new Map(line.split(' ').map((w) => w.split('=') as [string, string]));
  return Object.fromEntries(
    FAULT_SITES.map((site) => [site, Number(counts.get(HARNESS_SITE[site]) ?? 0)]),
  ) as Record<FaultSite, number>;
}

type Plan = { step: Step; how: Taken }[];

/**
 * The steps the harness takes (one VM, a host of at most 4096 pages, host-side and launch steps
 * only), or why it cannot run the scenario.
 */
function harnessPlan(scenario: Scenario): Plan | string {
  const creates = scenario.steps.filter((s) => s.op === 'vm.create').length;
  if (creates !== 1) return `${creates} VMs (the harness runs one)`;
  if (scenario.host.pages > HARNESS_PAGES)
    return `a host of ${scenario.host.pages} pages (the harness has ${HARNESS_PAGES})`;
  const plan: Plan = [];
  let started = false;
  for (const step of scenario.steps) {
    const how = translate(step);
    if (typeof how === 'object' && 'notApplicable' in how) return how.notApplicable;
    started ||= step.op === 'snp.launch_start';
    // The harness's VM is launching from its first line: an update before LAUNCH_START has no counterpart.
    if (how === 'drop' || (step.op === 'snp.launch_update' && !started)) continue;
    plan.push({ step, how });
  }
  return plan;
}

/**
 * Runs the plan on the reviewed model (the reference every patch is held to, whatever ABI the
 * scenario names): the harness input, the model's trace, and the calls at each fault site from
 * the first launch update on.
 */
function runOnModel(scenario: Scenario, plan: Plan): ModelRun {
  const reject = scenario.kvm?.rejectAssignedOnUpdate === true;
  const ring = new TraceRing(RING_EVENTS);
  const session = new ScenarioSession(
    { host: scenario.host, kvm: { abi: 'reviewed', rejectAssignedOnUpdate: reject } },
    ring,
  );
  const { faults, pages } = session.machine;
  const released: string[] = [];
  pages.onRelease = (pfn) =>
    released.push(
      `release pfn=0x${hex(pfn)} dirty=${Number(pages.isDirty(pfn))} accessed=${Number(pages.isAccessed(pfn))}`,
    );
  const input: HarnessLine[] = [`reject ${Number(reject)}`];
  const expected: string[] = [];
  let before: number[] | undefined;
  let firstUpdate = -1;
  for (const { step, how } of plan) {
    if (step.op === 'snp.launch_update' && before === undefined) {
      before = FAULT_SITES.map((site) => faults.calls(site));
      firstUpdate = input.length;
    }
    const result = session.run(step);
    if (how !== 'quiet') {
      input.push(how.line === 'asid' ? `asid ${result.ok ? (result.asid ?? 0) : 0}` : how.line);
      for (const e of ring.events())
        if (entryLine(e.old) !== entryLine(e.new))
          expected.push(`rmp pfn=0x${hex(e.pfn)} old=${entryLine(e.old)} new=${entryLine(e.new)}`);
    }
    ring.clear();
    if (step.op === 'snp.launch_update') expected.push(...callOutcome(session, result, released.splice(0)));
  }
  const calls = Object.fromEntries(
    FAULT_SITES.map((site, i) => [site, faults.calls(site) - (before?.[i] ?? faults.calls(site))]),
  ) as Record<FaultSite, number>;
  return { input, expected, calls, firstUpdate };
}

/** After a launch update: its leaks, its releases (with their marks), the pages still pinned, its result. */
function callOutcome(session: ScenarioSession, result: StepResult, released: readonly string[]): string[] {
  const errno = result.ok ? undefined : result.errno;
  const pinned = [...session.machine.pages.pinned()].map(
    ([pfn, pins]) => `pinned pfn=0x${hex(pfn)} pins=${pins}`,
  );
  return [
    ...(result.leaked ?? []).map((pfn) => `leak pfn=0x${hex(pfn)}`),
    ...released,
    ...pinned,
    `result ret=${result.ok ? 0 : -Errno[errno ?? 'EINVAL']}`,
  ];
}
