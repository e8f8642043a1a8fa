// The dynamic rule: the patch's C and the TS model run the same scenarios and must print the same
// canonical trace (RMP changes, leaks, page releases, result). The harness's own rules say why a
// patch's C could not be compared: refused, not built, or stopped by the sandbox or its limits.
import type { CModel } from '../c/cModel.js';
import type { Finding } from '../rules/rule.js';
import { buildHarness, type Stop } from './harness.js';
import { cOnlyRuns, type HarnessRun, harnessCalls } from './modelRun.js';
import { callLine } from './uapi.js';

export { dynamicRuns } from './scenarios.js';

/** The dynamic rule's id and rationale, listed with the static rules in reports. */
export const DYNAMIC_RULE = {
  id: 'dynamic-trace',
  rationale:
    "The patch's C, compiled against user-space shims, and the TS model print the same trace on every shared scenario and every single injected failure of it. The trace: RMP changes, leaks, page releases dirty and accessed, pages left pinned, RMP writes the tracepoint missed, the result; a failure only the C can meet (a call the model does not make) must leave no page pinned but leaked ones, every release dirty and accessed, every RMP write traced, and nothing a failed call assigned that it neither gave back nor leaked.",
} as const;

/** Why a patch's C was not compared with the model (README "Trust model"). */
export const HARNESS_RULES = [
  {
    id: 'harness-refused',
    rationale:
      'The harness compiles only C that cannot read files at build time or run before the sandbox: no #include but kernel headers, no #pragma, _Pragma, inline assembly, constructors or token pasting.',
  },
  {
    id: 'harness-build',
    rationale: "The patch's C must build against the shims for its traces to be compared with the model.",
  },
  {
    id: 'harness-timeout',
    rationale:
      'A launch update must finish: the harness gives its runs (every scenario and failure path) 1 s of CPU time.',
  },
  {
    id: 'harness-sandbox',
    rationale:
      "The patch's C runs in seccomp strict mode: it may compute, read its input and print, and a system call beyond that (open, socket, exec, mmap, exit) ends the run.",
  },
  {
    id: 'harness-crash',
    rationale: 'A launch update must not crash on any scenario, failure paths included.',
  },
  {
    id: 'harness-output',
    rationale:
      'A scenario prints a few lines per page: the harness stops when its runs print over 64 KiB each.',
  },
] as const;

const OUTCOME: Record<Stop['kind'], [rule: string, what: string]> = {
  timeout: ['harness-timeout', 'did not finish within its time limit'],
  sandbox: ['harness-sandbox', 'made a system call the sandbox forbids'],
  output: ['harness-output', 'printed more than the output limit'],
  unavailable: ['harness-sandbox', 'could not enter the sandbox (seccomp strict mode), so was not run'],
  crash: ['harness-crash', 'crashed'],
  error: ['harness-build', 'did not run'],
};

/**
 * C that hangs, escapes or floods does so on every run: the first says so and the rest are not
 * run, so a hostile patch costs one limit. One such stop on a failure path is taken as that path's
 * bug (a revert loop that never ends when nothing was changed), and the runs after it go on.
 */
const STOPS_ALL: ReadonlySet<Stop['kind']> = new Set(['timeout', 'sandbox', 'output', 'unavailable']);

/** A run named as findings name it: the scenario, and the failure path when it walks one. */
const runName = (run: HarnessRun) => `scenario ${run.name}${run.path === undefined ? '' : `, ${run.path}`}`;

/**
 * Runs every scenario and every failure path of it on the patch's C, in as few harness processes
 * as it takes (one, and one more for the paths only the C has, unless a run crashes), and compares
 * each with the model's trace, or checks its end state where the model has no counterpart. Per
 * scenario: a finding if the scenario as written differs, and one naming the first failure path
 * that differs, with how many more do.
 */
export function dynamicFindings(
  c: CModel,
  tsLocation: Finding['ts'],
  runs: readonly HarnessRun[],
): Finding[] {
  const entity = c.entities.get('kvm.snp_launch_update');
  const located = (rule: string, message: string): Finding => ({
    rule,
    message,
    ...(entity === undefined ? {} : { c: entity.location }),
    ...(tsLocation === undefined ? {} : { ts: tsLocation }),
  });
  const built = buildHarness(c);
  if ('problems' in built)
    return built.problems.map((p) => ({ rule: p.rule, message: p.message, ...(p.at && { c: p.at }) }));
  const inputOf = (run: HarnessRun) =>
    run.input.map((line) => (typeof line === 'string' ? line : callLine(c.flavour, line)));
  // The model's runs, then the failure paths only the C has, found in its clean runs' call counts.
  const all = [...runs];
  const findings: Finding[] = [];
  const differing: { run: HarnessRun; message: string }[] = [];
  let pathStopsLeft = 1;
  try {
    for (let next = 0; next < all.length; ) {
      const batch = built.harness.run(all.slice(next).map(inputOf));
      for (const [i, lines] of batch.outputs.entries()) {
        const run = all[next + i] as HarnessRun;
        const calls = run.walk === undefined ? undefined : harnessCalls(lines);
        if (calls !== undefined) all.push(...cOnlyRuns(run, calls));
        const message = compare(run, lines);
        if (message !== undefined) differing.push({ run, message });
      }
      next += batch.outputs.length;
      if (batch.stop === undefined) continue;
      const stopped = all[next] as HarnessRun;
      const { kind } = batch.stop;
      const [rule, what] = OUTCOME[kind];
      const detail =
        batch.stop.kind === 'crash'
          ? ` (${batch.stop.signal})`
          : batch.stop.kind === 'error'
            ? `: ${batch.stop.detail}`
            : '';
      next += 1;
      const stopsAll = STOPS_ALL.has(kind) && (stopped.path === undefined || pathStopsLeft-- === 0);
      const left = stopsAll ? all.length - next : 0;
      const rest = left > 0 ? `; ${left} more run(s) not run` : '';
      findings.push(located(rule, `${runName(stopped)}: the patch's C ${what}${detail}${rest}`));
      if (left > 0) break;
    }
  } finally {
    built.harness.dispose();
  }
  return [...findings, ...perScenario(differing).map((message) => located(DYNAMIC_RULE.id, message))];
}

/** Per scenario: the scenario as written, then the first failure path that differs and how many more do. */
function perScenario(differing: readonly { run: HarnessRun; message: string }[]): string[] {
  const pathReported = new Set<string>();
  const messages: string[] = [];
  for (const [i, { run, message }] of differing.entries()) {
    if (run.path === undefined) {
      messages.push(`${runName(run)}: ${message}`);
      continue;
    }
    if (pathReported.has(run.name)) continue;
    pathReported.add(run.name);
    const more = differing
      .slice(i + 1)
      .filter((d) => d.run.name === run.name && d.run.path !== undefined).length;
    messages.push(
      `${runName(run)}: ${message}${more > 0 ? ` (and ${more} more failure path${more === 1 ? '' : 's'} of this scenario)` : ''}`,
    );
  }
  return messages;
}

/** The harness's reports on a run (shim/harness.c), which the model's trace does not have. */
const REPORT = /^(unfired|calls|kept|converted) /;

/**
 * The first difference between what the C printed for a run and the model's trace, or what it
 * left wrong on a path the model has no counterpart for; undefined if none or if the injection
 * reached no C call.
 */
function compare(run: HarnessRun, fromC: readonly string[]): string | undefined {
  // A failure injected at a call the patch's C does not make has no counterpart: not compared.
  if (run.unfired !== undefined && fromC.includes(run.unfired)) return undefined;
  if (run.expected === undefined) return endStateProblems(fromC);
  return firstDifference(canonical(fromC.filter((line) => !REPORT.test(line))), canonical(run.expected));
}

/**
 * What a run left wrong, from the C's lines alone (the end-state invariants that hold whatever the
 * model does): pages still pinned but leaked ones (a leaked page keeps its pin: kvm-svm
 * launchUpdateReviewed), releases without both marks, RMP writes no tracepoint event reported,
 * entries a failed call made assigned and neither gave back nor leaked; upstream: VMM pages made
 * assigned (the source is only read: kvm-svm launchUpdateUpstream), a memslot lookup without
 * kvm->slots_lock or the lock left held.
 */
function endStateProblems(fromC: readonly string[]): string | undefined {
  const pfns = (pattern: RegExp) => [...new Set(fromC.flatMap((line) => pattern.exec(line)?.[1] ?? []))];
  const leaked = new Set(pfns(/^leak pfn=(\S+)/));
  const listed = (what: string, found: readonly string[]) =>
    found.length === 0
      ? []
      : [`${found.length} page${found.length === 1 ? '' : 's'} ${what} (pfn ${found.join(', ')})`];
  const problems = [
    ...listed(
      'left pinned',
      pfns(/^pinned pfn=(\S+)/).filter((pfn) => !leaked.has(pfn)),
    ),
    ...listed(
      'released without being marked dirty and accessed',
      pfns(/^release pfn=(\S+) (?!dirty=1 accessed=1$)/),
    ),
    ...listed('written in the RMP with no tracepoint event', pfns(/^untraced pfn=(\S+)/)),
    ...listed('left assigned by the failed call, neither given back nor leaked', pfns(/^kept pfn=(\S+)/)),
    ...listed('of the VMM made private (its pages are only the source)', pfns(/^converted pfn=(\S+)/)),
    ...fromC
      .filter((line) => /^(un)?locked /.test(line))
      .slice(0, 1)
      .map(lockProblem),
  ];
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** An `unlocked` or `locked` line of the harness, in words. */
const lockProblem = (line: string) =>
  line.startsWith('unlocked ')
    ? `the memslot was looked up without kvm->slots_lock (${line.split(' ')[2]}())`
    : 'kvm->slots_lock was left held';

/**
 * The trace with the order that means nothing taken out: within each call, RMP changes keep their
 * order, and leaks, releases and the end-state lines (untraced, pinned) are a set, sorted after
 * them (releasing pages in reverse order is as good as in order).
 */
export function canonical(lines: readonly string[]): string[] {
  const out: string[] = [];
  let ordered: string[] = [];
  let unordered: string[] = [];
  for (const line of lines) {
    if (/^(leak|release|untraced|pinned) /.test(line)) unordered.push(line);
    else if (!line.startsWith('result ')) ordered.push(line);
    else {
      out.push(...ordered, ...unordered.sort(), line);
      ordered = [];
      unordered = [];
    }
  }
  return [...out, ...ordered, ...unordered.sort()];
}

/** The first line where the C's trace and the model's differ, both quoted; undefined if they agree. */
function firstDifference(fromC: readonly string[], fromTs: readonly string[]): string | undefined {
  const at = fromC.findIndex((line, i) => line !== fromTs[i]);
  const index = at >= 0 ? at : fromC.length !== fromTs.length ? Math.min(fromC.length, fromTs.length) : -1;
  if (index < 0) return undefined;
  return `event ${index + 1} differs — C: ${fromC[index] ?? '(none)'} | TS: ${fromTs[index] ?? '(none)'}`;
}
