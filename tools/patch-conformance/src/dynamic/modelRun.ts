// The model side of the dynamic rule: a scenario run through @snp-ref/scenario, printed in the
// harness's canonical lines, together with the lines that make the C harness run the same launch.

import { FAULT_SITES, type FaultSite, isCodedSite, type SnpVm } from '@snp-ref/kvm-svm';
import { SevStatus } from '@snp-ref/psp-firmware';
import { Errno, PAGE_SIZE, type RmpEntry, TraceRing } from '@snp-ref/rmp-core';
import {
  injectionCode,
  PAGE_TYPES,
  type Scenario,
  ScenarioSession,
  type Step,
  type StepResult,
} from '@snp-ref/scenario';
import { type LaunchUpdateCall, structHex } from './uapi.js';

/** The harness's host (MAX_PAGES in shim/harness.c). */
const HARNESS_PAGES = 4096;
/**
 * The model's trace ring, emptied after every step: a step changes at most 4 entries per page it
 * updates, and the ring costs time to allocate for each of the hundreds of failure paths.
 */
const RING_EVENTS = 1 << 14;

/**
 * The model flow a scenario runs on: upstream's (guest_memfd) for a scenario of the upstream ABI,
 * else the reviewed one, the reference the reviewed and v4 patches are held to.
 */
export type ModelFlow = 'reviewed' | 'upstream';
export const flowOf = (scenario: Scenario): ModelFlow =>
  scenario.kvm?.abi === 'upstream' ? 'upstream' : 'reviewed';

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
 * How the harness takes a step: a line of its input (`ifOk`: only if the model's step succeeded,
 * as the harness does not check it), `quiet` (the model runs it, but the harness models KVM's
 * launch updates only, so what it changes is not compared), `drop` (the uAPI cannot express it),
 * or why the scenario does not apply.
 */
type Taken = { readonly line: HarnessLine; readonly ifOk?: true } | 'quiet';
type Translation = Taken | 'drop' | { readonly notApplicable: string };

/** What translating a step needs besides it: the flow, and the harness's number of each guest_memfd by name. */
interface Context {
  readonly flow: ModelFlow;
  readonly gmems: Map<string, number>;
}

function translate(step: Step, context: Context): Translation {
  switch (step.op) {
    case 'vm.create':
      return { line: 'asid' }; // completed with the ASID the model gave the VM
    case 'snp.launch_start':
    case 'rmp.query':
    case 'hv.read':
    case 'guest.read':
      return 'quiet';
    case 'mmap':
      return { line: `map ${hex(step.hva)} ${hex(step.pfn)} ${step.pages}`, ifOk: true };
    case 'memslot.set': {
      if (step.gmem === undefined)
        return { line: `slot ${step.slot} ${hex(step.gpa)} ${hex(step.hva)} ${step.size}` };
      if (context.flow !== 'upstream') return { notApplicable: 'a guest_memfd memslot (upstream ABI only)' };
      const gmem = context.gmems.get(step.gmem);
      if (gmem === undefined) return 'quiet'; // the model refuses it: no such guest_memfd
      const slot = `${step.slot} ${hex(step.gpa)} ${hex(step.hva)} ${step.size}`;
      return { line: `gslot ${slot} ${gmem} ${hex(step.gmemOffset ?? 0)}`, ifOk: true };
    }
    case 'gmem.create': {
      if (context.flow !== 'upstream') return { notApplicable: 'a guest_memfd (upstream ABI only)' };
      const id = context.gmems.get(step.name) ?? context.gmems.size;
      context.gmems.set(step.name, id);
      return { line: `gmem ${id} ${hex(step.pfn)} ${step.pages}`, ifOk: true };
    }
    case 'memory.attributes':
      if (context.flow !== 'upstream') return { notApplicable: 'memory attributes (upstream ABI only)' };
      return {
        line: `attr ${hex(step.gpa / PAGE_SIZE)} ${step.size / PAGE_SIZE} ${Number(step.private)}`,
        ifOk: true,
      };
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
      return { line: injectLine(step) };
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

const injectLine = (step: Extract<Step, { op: 'inject' }>) =>
  `inject ${HARNESS_SITE[step.at]} ${step.nth} ${injectionCode(step) ?? 0}`;

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
  const step = { op: 'inject', at: site, nth, ...(isCodedSite(site) && { error }) } as const;
  return {
    step,
    how: { line: injectLine(step) },
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
      const walked = { step, how, walked: true } as const;
      const run = runOnModel(scenario, [...plan.slice(0, first), walked, ...plan.slice(first)]);
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

/** The steps the harness takes; `walked`: the failure the walk injects, armed on the model's injector itself. */
type Plan = { step: Step; how: Taken; walked?: true }[];

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
  const context: Context = { flow: flowOf(scenario), gmems: new Map() };
  let started = false;
  for (const step of scenario.steps) {
    const how = translate(step, context);
    if (typeof how === 'object' && 'notApplicable' in how) return how.notApplicable;
    started ||= step.op === 'snp.launch_start';
    // The harness's VM is launching from its first line: an update before LAUNCH_START has no counterpart.
    if (how === 'drop' || (step.op === 'snp.launch_update' && !started)) continue;
    plan.push({ step, how });
  }
  return plan;
}

/**
 * Runs the plan on the model of the scenario's flow (reviewed for every scenario but the upstream
 * ABI's, whatever other ABI it names: the reference the reviewed and v4 patches are held to): the
 * harness input, the model's trace, and the calls at each fault site from the first launch update on.
 */
function runOnModel(scenario: Scenario, plan: Plan): ModelRun {
  const reject = scenario.kvm?.rejectAssignedOnUpdate === true;
  const flow = flowOf(scenario);
  const ring = new TraceRing(RING_EVENTS);
  const session = new ScenarioSession(
    { host: scenario.host, kvm: { abi: flow, rejectAssignedOnUpdate: reject } },
    ring,
  );
  const { faults, pages } = session.machine;
  const released: string[] = [];
  pages.onRelease = (pfn) =>
    released.push(
      `release pfn=0x${hex(pfn)} dirty=${Number(pages.isDirty(pfn))} accessed=${Number(pages.isAccessed(pfn))}`,
    );
  const written: { readonly at: number; readonly line: string }[] = [];
  const input: HarnessLine[] = [`reject ${Number(reject)}`];
  const expected: string[] = [];
  let before: number[] | undefined;
  let firstUpdate = -1;
  for (const { step, how, walked } of plan) {
    if (step.op === 'snp.launch_update' && before === undefined) {
      before = FAULT_SITES.map((site) => faults.calls(site));
      firstUpdate = input.length;
    }
    if (walked === true && step.op === 'inject' && how !== 'quiet') {
      // The scenario format refuses copy_to_user (its launch update copies no progress back), but
      // the upstream model's CPUID copy-back is a copy_to_user the walk must fail too.
      faults.inject(step.at, step.nth, injectionCode(step));
      input.push(how.line);
      continue;
    }
    const result = session.run(modelStep(step));
    if (step.op === 'vm.create') recordUserWrites(session, step.vm, ring, written);
    if (how !== 'quiet' && (how.ifOk === undefined || result.ok)) {
      input.push(how.line === 'asid' ? `asid ${result.ok ? (result.asid ?? 0) : 0}` : how.line);
      for (const [i, e] of ring.events().entries()) {
        expected.push(...written.filter((w) => w.at === i).map((w) => w.line));
        if (entryLine(e.old) !== entryLine(e.new))
          expected.push(`rmp pfn=0x${hex(e.pfn)} old=${entryLine(e.old)} new=${entryLine(e.new)}`);
      }
      expected.push(...written.filter((w) => w.at >= ring.size).map((w) => w.line));
    }
    written.length = 0;
    ring.clear();
    if (step.op === 'snp.launch_update') {
      const call = flow === 'upstream' && how !== 'quiet' ? (how.line as LaunchUpdateCall) : undefined;
      expected.push(...callOutcome(session, result, released.splice(0), call));
    }
  }
  const calls = Object.fromEntries(
    FAULT_SITES.map((site, i) => [site, faults.calls(site) - (before?.[i] ?? faults.calls(site))]),
  ) as Record<FaultSite, number>;
  return { input, expected, calls, firstUpdate };
}

/**
 * The step as the model runs it: a `mmap` fill is zero, as the harness's pages are (contents are
 * not compared; a file fill would need the scenario's directory), still the host's write of them.
 */
const modelStep = (step: Step): Step =>
  step.op === 'mmap' && step.fill !== undefined ? { ...step, fill: 'zero' } : step;

/**
 * Records each copy_to_user into the VMM's memory the VM's launch updates make (upstream: a CPUID
 * page the firmware corrected, copied back to its source) as the harness prints it, with the
 * number of RMP events before it (the trace's order).
 */
function recordUserWrites(
  session: ScenarioSession,
  name: string,
  ring: TraceRing,
  written: { at: number; line: string }[],
): void {
  const vm: SnpVm | undefined = session.kvm.vm(name);
  if (vm === undefined) return;
  const copyToUser = vm.copyToUser.bind(vm);
  vm.copyToUser = (hva, bytes) => {
    const copied = copyToUser(hva, bytes);
    if (copied) written.push({ at: ring.size, line: `uwrite hva=0x${hex(hva)} len=${bytes.length}` });
    return copied;
  };
}

/**
 * After a launch update: its leaks, its releases (with their marks), the pages still pinned, its
 * result; upstream (`call`): the struct as written back before the result, and the firmware
 * status the result carries (kvm_sev_cmd.error).
 */
function callOutcome(
  session: ScenarioSession,
  result: StepResult,
  released: readonly string[],
  call?: LaunchUpdateCall,
): string[] {
  const errno = result.ok ? undefined : result.errno;
  const pinned = [...session.machine.pages.pinned()].map(
    ([pfn, pins]) => `pinned pfn=0x${hex(pfn)} pins=${pins}`,
  );
  const ret = `result ret=${result.ok ? 0 : -Errno[errno ?? 'EINVAL']}`;
  const fwError = result.ok ? 0 : SevStatus[result.fwError ?? 'SUCCESS'];
  return [
    ...(result.leaked ?? []).map((pfn) => `leak pfn=0x${hex(pfn)}`),
    ...released,
    ...pinned,
    ...(call === undefined
      ? [ret]
      : [`uapi ${structHex('upstream', writtenBack(call, result))}`, `${ret} error=0x${hex(fwError)}`]),
  ];
}

/** The struct userspace reads back after an upstream call: advanced past the pages done, else as it gave it. */
function writtenBack(call: LaunchUpdateCall, result: StepResult): LaunchUpdateCall {
  if (!result.ok || result.next === undefined) return call;
  const { gpa, hva, len } = result.next;
  return { ...call, gfn: Number(BigInt(gpa) / BigInt(PAGE_SIZE)), uaddr: Number(BigInt(hva)), len };
}
