// `snp-ref fuzz` / `npm run fuzz`: the campaign from the command line.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CampaignReport,
  checkScenario,
  type GeneratedScenario,
  runCampaign,
} from '@snp-ref/scenario/fuzz';
import { progressReporter } from '../progress.js';

export class FuzzInputError extends Error {}

const count = (flag: string, value: unknown, min: number) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min)
    throw new FuzzInputError(`${flag}: expected an integer ≥ ${min}, got ${String(value)}`);
  return n;
};

function shardOf(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(String(text));
  const [index, total] = [Number(m?.[1]), Number(m?.[2])];
  if (!m || total < 1 || index >= total)
    throw new FuzzInputError(`--shard: expected i/n with 0 ≤ i < n, got ${String(text)}`);
  return { index, count: total };
}

function report(r: CampaignReport, seed: number, out: string, selfTest: boolean): number {
  const figures = `${r.sequences} sequences, ${r.steps} steps, ${r.injected} fault injections armed, ${r.failedSteps} failed steps`;
  if (r.failure === undefined) {
    process.stdout.write(`ok: ${figures}; every invariant held after every step\n`);
    return 0;
  }
  const { failure } = r;
  const file = join(out, `fuzz-failure-${failure.seed}.json`);
  writeFileSync(file, `${JSON.stringify(failure.scenario, null, 2)}\n`);
  process.stdout.write(
    [
      `FAILED: sequence seed ${failure.seed} (campaign --seed ${seed}), step ${failure.step}: ${failure.violation.rule}`,
      `  ${failure.violation.message}`,
      `  shrunk to ${failure.scenario.steps.length} steps: ${file}`,
      `  replay: snp-ref fuzz --replay ${file}${selfTest ? ' --self-test' : ''}   (or snp-ref run ${file})`,
      `  after ${figures}`,
      '',
    ].join('\n'),
  );
  return 1;
}

/** The flags of `snp-ref fuzz`, as the command line gives them. */
export interface FuzzOptions {
  runs: string;
  seed: string;
  steps: string;
  shard?: string;
  out: string;
  replay?: string;
  selfTest?: boolean;
}

/** Runs the command; the exit code: 0 every invariant held, 1 a violation (written out), 2 bad flags. */
export function runFuzz(options: FuzzOptions): number {
  try {
    if (options.replay !== undefined) {
      const scenario = JSON.parse(readFileSync(options.replay, 'utf8')) as GeneratedScenario;
      const result = checkScenario(scenario, options.selfTest === true);
      if (!('violation' in result)) {
        process.stdout.write(`ok: ${result.steps} steps, every invariant held\n`);
        return 0;
      }
      process.stdout.write(
        `FAILED at step ${result.step}: ${result.violation.rule}\n  ${result.violation.message}\n`,
      );
      return 1;
    }
    const seed = count('--seed', options.seed, 0);
    const progress = process.stderr.isTTY ? progressReporter('fuzzing') : undefined;
    const shard = shardOf(options.shard);
    const r = runCampaign({
      runs: count('--runs', options.runs, 1),
      seed,
      steps: count('--steps', options.steps, 1),
      ...(shard && { shard }),
      ...(options.selfTest === true && { v4AsReviewed: true }),
      ...(progress && { onProgress: progress }),
    });
    progress?.(0, 0);
    return report(r, seed, options.out, options.selfTest === true);
  } catch (error) {
    if (
      error instanceof FuzzInputError ||
      error instanceof SyntaxError ||
      (error as NodeJS.ErrnoException).code === 'ENOENT'
    ) {
      process.stderr.write(`snp-ref: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}
