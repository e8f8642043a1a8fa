// The fuzz campaign: generate a sequence, run it step by step under the invariants, and on a
// violation shrink the sequence to a small scenario that still breaks the same rule.
import { TraceRing } from '@snp-ref/rmp-core';
import { parseScenario } from '../schema.js';
import { ScenarioSession } from '../session.js';
import { type GeneratedScenario, generateScenario, HOST_PAGES } from './generate.js';
import { generateUpstreamScenario } from './generateUpstream.js';
import { InvariantChecker, type Violation } from './invariants.js';

/**
 * The first invariant a campaign found broken: the sequence's seed, the step, the rule, and the scenario
 * shrunk to replay it.
 */
export interface Failure {
  readonly seed: number;
  readonly step: number;
  readonly violation: Violation;
  /** The smallest scenario found that still breaks the rule: replay with `snp-ref fuzz --replay`. */
  readonly scenario: GeneratedScenario;
}

/** What one generated sequence did: its steps, the failures injected into it, the steps that failed. */
export interface SequenceStats {
  readonly steps: number;
  /** Injected firmware and RMPUPDATE failures, and failed steps. */
  readonly injected: number;
  readonly failedSteps: number;
}

/** Runs a scenario under the invariants; the first violation, or the run's figures. */
export function checkScenario(
  scenario: GeneratedScenario,
  reviewedPromisesForV4 = false,
): { step: number; violation: Violation } | SequenceStats {
  const parsed = parseScenario(scenario);
  if (!parsed.ok)
    throw new Error(
      `internal: the generator wrote an invalid scenario: ${parsed.problems[0]?.path}: ${parsed.problems[0]?.message}`,
    );
  // The checker reads the machine, never the trace: a small ring records it.
  const session = new ScenarioSession(parsed.scenario, new TraceRing(64));
  const checker = new InvariantChecker(
    session,
    parsed.scenario.kvm?.rejectAssignedOnUpdate ?? false,
    reviewedPromisesForV4,
  );
  let failedSteps = 0;
  for (const [i, step] of parsed.scenario.steps.entries()) {
    checker.before(step);
    const result = session.run(step);
    if (!result.ok) failedSteps++;
    const [violation] = checker.after(step, result);
    if (violation) return { step: i, violation };
  }
  const injected = parsed.scenario.steps.filter((s) => s.op === 'inject').length;
  return { steps: parsed.scenario.steps.length, injected, failedSteps };
}

const isFailure = (r: ReturnType<typeof checkScenario>): r is { step: number; violation: Violation } =>
  'violation' in r;

/** Removes steps (halves, then quarters, … then single steps) while the same rule still breaks. */
export function shrink(
  scenario: GeneratedScenario,
  rule: Violation['rule'],
  reviewedPromisesForV4 = false,
): GeneratedScenario {
  let steps = scenario.steps;
  const breaks = (candidate: Record<string, unknown>[]) => {
    const r = checkScenario({ ...scenario, steps: candidate }, reviewedPromisesForV4);
    return isFailure(r) && r.violation.rule === rule;
  };
  for (let chunk = Math.ceil(steps.length / 2); chunk >= 1; chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
    for (let at = 0; at < steps.length; ) {
      const candidate = [...steps.slice(0, at), ...steps.slice(at + chunk)];
      if (candidate.length > 0 && breaks(candidate)) steps = candidate;
      else at += chunk;
    }
  }
  return {
    ...scenario,
    description: `${scenario.description}, shrunk to ${steps.length} steps (rule ${rule})`,
    steps,
  };
}

/**
 * A fuzz campaign: how many sequences of how many steps from which seed, which shard of them, and whom to
 * tell of progress.
 */
export interface CampaignOptions {
  readonly runs: number;
  readonly seed: number;
  readonly steps: number;
  /** Run only sequences k with k % count === index. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Generate only RFC v4 sequences and hold them to the reviewed ABI's promises (a self-test). */
  readonly v4AsReviewed?: boolean;
  /** Called after each sequence with how many are done out of how many. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What a campaign ran, and its failure if it found one. */
export interface CampaignReport {
  readonly sequences: number;
  readonly steps: number;
  readonly injected: number;
  readonly failedSteps: number;
  readonly failure?: Failure;
}

/** Sequence k uses seed + k; a shard runs every count-th sequence, so shards partition a campaign. */
export function runCampaign(options: CampaignOptions): CampaignReport {
  const { index, count } = options.shard ?? { index: 0, count: 1 };
  let [sequences, steps, injected, failedSteps] = [0, 0, 0, 0];
  const mine = Array.from({ length: options.runs }, (_, k) => k).filter((k) => k % count === index);
  for (const k of mine) {
    const seed = (options.seed + k) >>> 0;
    const v4 = options.v4AsReviewed === true;
    // Every third sequence launches through the upstream ABI; the others draw reviewed or v4.
    const scenario =
      !v4 && k % 3 === 2
        ? generateUpstreamScenario(seed, options.steps, HOST_PAGES)
        : generateScenario(seed, options.steps, v4 ? { abi: 'v4' } : undefined);
    const result = checkScenario(scenario, v4);
    sequences++;
    if (isFailure(result)) {
      const failure = {
        seed,
        step: result.step,
        violation: result.violation,
        scenario: shrink(scenario, result.violation.rule, v4),
      };
      return { sequences, steps: steps + result.step + 1, injected, failedSteps, failure };
    }
    steps += result.steps;
    injected += result.injected;
    failedSteps += result.failedSteps;
    options.onProgress?.(sequences, mine.length);
  }
  return { sequences, steps, injected, failedSteps };
}

/**
 * One campaign from the reports of its shards (`shard` i of n, each run alone): the figures summed,
 * the failure of the earliest sequence. A clean campaign's report is the one of a single run; when
 * several shards fail, each ran up to its own failure, so the figures then count more sequences.
 */
export function mergeShards(seed: number, shards: readonly CampaignReport[]): CampaignReport {
  const sum = (figure: 'sequences' | 'steps' | 'injected' | 'failedSteps') =>
    shards.reduce((n, shard) => n + shard[figure], 0);
  const sequenceOf = (failure: Failure) => (failure.seed - seed) >>> 0;
  const [failure] = shards.flatMap((s) => s.failure ?? []).sort((a, b) => sequenceOf(a) - sequenceOf(b));
  return {
    sequences: sum('sequences'),
    steps: sum('steps'),
    injected: sum('injected'),
    failedSteps: sum('failedSteps'),
    ...(failure && { failure }),
  };
}
