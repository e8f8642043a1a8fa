// The dynamic rule: the patch's C and the TS model run the same scenarios and must print the same
// canonical trace (RMP changes, leaks, page releases, result). The harness's own rules say why a
// patch's C could not be compared: refused, not built, or stopped by the sandbox or its limits.
import type { CModel } from '../c/cModel.js';
import type { Finding } from '../rules/rule.js';
import { buildHarness, type RunOutcome } from './harness.js';
import type { HarnessRun } from './modelRun.js';

export { cliExampleScenarios, conformScenarios } from './scenarios.js';

/** The dynamic rule's id and rationale, listed with the static rules in reports. */
export const DYNAMIC_RULE = {
  id: 'dynamic-trace',
  rationale:
    "The patch's C, compiled against user-space shims, and the TS model print the same canonical trace (RMP changes, leaks, page releases, result) on every shared scenario.",
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
    rationale: 'A launch update must finish: the harness gives each scenario 1 s of CPU time.',
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
    rationale: 'A scenario prints a few lines per page: the harness stops a run that prints over 1 MiB.',
  },
] as const;

const OUTCOME: Record<Exclude<RunOutcome['kind'], 'ran'>, [rule: string, what: string]> = {
  timeout: ['harness-timeout', 'did not finish within its time limit'],
  sandbox: ['harness-sandbox', 'made a system call the sandbox forbids'],
  output: ['harness-output', 'printed more than the output limit'],
  unavailable: ['harness-sandbox', 'could not enter the sandbox (seccomp strict mode), so was not run'],
  crash: ['harness-crash', 'crashed'],
  error: ['harness-build', 'did not run'],
};

/** Runs every scenario on the patch's C: the first differing line of each is a finding, both sides quoted. */
export function dynamicFindings(
  c: CModel,
  tsLocation: Finding['ts'],
  scenarios: readonly HarnessRun[],
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
  const findings: Finding[] = [];
  try {
    for (const [n, scenario] of scenarios.entries()) {
      const outcome = built.harness.run(scenario.input);
      const message = outcome.kind === 'ran' ? firstDifference(outcome.lines, scenario.expected) : undefined;
      if (outcome.kind === 'ran') {
        if (message !== undefined)
          findings.push(located(DYNAMIC_RULE.id, `scenario ${scenario.name}: ${message}`));
        continue;
      }
      const [rule, what] = OUTCOME[outcome.kind];
      const detail =
        outcome.kind === 'crash'
          ? ` (${outcome.signal})`
          : outcome.kind === 'error'
            ? `: ${outcome.detail}`
            : '';
      // C that hangs, escapes or floods does so on every scenario: the first one says so and the
      // rest are not run, so a hostile patch costs one limit, not one per scenario.
      const stop = outcome.kind === 'timeout' || outcome.kind === 'sandbox' || outcome.kind === 'output';
      const left = scenarios.length - n - 1;
      const rest = stop && left > 0 ? `; ${left} more scenario(s) not run` : '';
      findings.push(located(rule, `scenario ${scenario.name}: the patch's C ${what}${detail}${rest}`));
      if (stop) break;
    }
    return findings;
  } finally {
    built.harness.dispose();
  }
}

/** The first line where the C's trace and the model's differ, both quoted; undefined if they agree. */
function firstDifference(fromC: readonly string[], fromTs: readonly string[]): string | undefined {
  const at = fromC.findIndex((line, i) => line !== fromTs[i]);
  const index = at >= 0 ? at : fromC.length !== fromTs.length ? Math.min(fromC.length, fromTs.length) : -1;
  if (index < 0) return undefined;
  return `event ${index + 1} differs — C: ${fromC[index] ?? '(none)'} | TS: ${fromTs[index] ?? '(none)'}`;
}
