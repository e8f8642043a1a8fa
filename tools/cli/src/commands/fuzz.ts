// `snp-ref fuzz` / `npm run fuzz`: a campaign of random scenarios, or the replay of one.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { counted } from '@snp-ref/rmp-core';
import type { CampaignReport, checkScenario, GeneratedScenario, Violation } from '@snp-ref/scenario/fuzz';
import { defineCommand } from '../commandLine/command.js';
import { CliInputError } from '../commandLine/inputError.js';
import type { CliIo } from '../commandLine/io.js';
import { type Files, filesOf } from '../files.js';
import { packageFile } from '../packageFiles.js';
import { progressOn } from '../progress.js';
import { validScenario } from './scenarioInput.js';

const count = (flag: string, value: string, min: number) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min)
    throw new CliInputError('USAGE', `${flag}: expected an integer ≥ ${min}, got ${value}`);
  return n;
};

function shardOf(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const [index, total] = [Number(m?.[1]), Number(m?.[2])];
  if (!m || total < 1 || index >= total)
    throw new CliInputError('USAGE', `--shard: expected i/n with 0 ≤ i < n, got ${text}`);
  return { index, count: total };
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** What `fuzz --json` prints (report below). */
interface ReportJson {
  readonly sequences: number;
  readonly steps: number;
  readonly injected: number;
  readonly failedSteps: number;
  readonly failure?: { seed: number; step: number; scenario: string } & Violation;
}

/** Runs `snp-ref fuzz ARGS --json` in a process of its own (this package's bin); what it printed. */
function fuzzProcess(io: CliIo, args: readonly string[]): Promise<ReportJson> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [packageFile('bin/snp-ref.js'), 'fuzz', ...args, '--json'], {
      cwd: io.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let [stdout, stderr] = ['', ''];
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(stdout) as ReportJson);
      } catch {
        reject(new Error(`snp-ref fuzz ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
      }
    });
  });
}

/**
 * The campaign split into `jobs` shards, each in its own process (so on its own core), merged by
 * mergeShards: a clean campaign reports what one process does, a failing one the same failure.
 */
async function runInProcesses(
  io: CliIo,
  files: Files,
  campaign: { runs: number; seed: number; steps: number; selfTest: boolean },
  jobs: number,
): Promise<CampaignReport> {
  const { mergeShards } = await import('@snp-ref/scenario/fuzz');
  const out = mkdtempSync(join(tmpdir(), 'snp-ref-fuzz-'));
  try {
    const args = (shard: number) => [
      ...['--runs', `${campaign.runs}`, '--seed', `${campaign.seed}`, '--steps', `${campaign.steps}`],
      ...['--shard', `${shard}/${jobs}`, '--out', out],
      ...(campaign.selfTest ? ['--self-test'] : []),
    ];
    // Every shard settles before `out` is removed: a failed one must not pull it from under the others.
    const settled = await Promise.allSettled(
      Array.from({ length: jobs }, (_, i) => fuzzProcess(io, args(i))),
    );
    const shards = settled.map((shard) => {
      if (shard.status === 'rejected') throw shard.reason;
      return shard.value;
    });
    return mergeShards(
      campaign.seed,
      shards.map(({ failure, ...figures }) => ({
        ...figures,
        ...(failure && {
          failure: {
            seed: failure.seed,
            step: failure.step,
            violation: { rule: failure.rule, message: failure.message },
            scenario: files.readJson(failure.scenario) as GeneratedScenario,
          },
        }),
      })),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Prints the campaign's figures, or its failure (written out as a scenario); the exit code. */
function report(
  io: CliIo,
  files: Files,
  r: CampaignReport,
  options: { seed: number; out: string; selfTest: boolean; json: boolean },
): number {
  const { sequences, steps, injected, failedSteps, failure } = r;
  const file = failure && join(options.out, `fuzz-failure-${failure.seed}.json`);
  if (failure && file) files.writeText(file, json(failure.scenario));
  if (options.json) {
    const figures = { sequences, steps, injected, failedSteps };
    io.stdout(
      json(
        failure && file
          ? {
              ok: false,
              ...figures,
              failure: {
                seed: failure.seed,
                step: failure.step,
                ...failure.violation,
                scenario: file,
                scenarioSteps: failure.scenario.steps.length,
              },
            }
          : { ok: true, ...figures },
      ),
    );
    return failure ? 1 : 0;
  }
  const figures = [
    counted(sequences, 'sequence'),
    counted(steps, 'step'),
    `${counted(injected, 'fault injection')} armed`,
    counted(failedSteps, 'failed step'),
  ].join(', ');
  if (!failure || !file) {
    io.stdout(`ok: ${figures}; every invariant held after every step\n`);
    return 0;
  }
  io.stdout(
    [
      `FAILED: sequence seed ${failure.seed} (campaign --seed ${options.seed}), step ${failure.step}: ${failure.violation.rule}`,
      `  ${failure.violation.message}`,
      `  shrunk to ${counted(failure.scenario.steps.length, 'step')}: ${file}`,
      `  replay: snp-ref fuzz --replay ${file}${options.selfTest ? ' --self-test' : ''}   (or snp-ref run ${file})`,
      `  after ${figures}`,
      '',
    ].join('\n'),
  );
  return 1;
}

/** Prints the replay's result; the exit code. */
function replayReport(io: CliIo, result: ReturnType<typeof checkScenario>, asJson: boolean): number {
  const ok = !('violation' in result);
  if (asJson)
    io.stdout(json(ok ? { ok, steps: result.steps } : { ok, step: result.step, ...result.violation }));
  else if (ok) io.stdout(`ok: ${counted(result.steps, 'step')}, every invariant held\n`);
  else io.stdout(`FAILED at step ${result.step}: ${result.violation.rule}\n  ${result.violation.message}\n`);
  return ok ? 0 : 1;
}

export const fuzzCommand = defineCommand({
  name: 'fuzz',
  summary:
    'Run random scenarios (up to four VMs, injected failures) and check the invariants after every step',
  arguments: [],
  options: [
    { flag: '--runs', type: 'string', value: 'n', default: '200', description: 'sequences to run' },
    {
      flag: '--seed',
      type: 'string',
      value: 's',
      default: '1',
      description: 'seed of sequence 0; sequence k uses seed + k',
    },
    { flag: '--steps', type: 'string', value: 'n', default: '40', description: 'steps per sequence' },
    {
      flag: '--shard',
      type: 'string',
      value: 'i/n',
      description: 'run only sequences k with k % n = i (shards of one campaign, one per process)',
    },
    {
      flag: '--jobs',
      type: 'string',
      value: 'n',
      default: '1',
      description: 'split the campaign into n shards, each in its own process, and merge their reports',
    },
    {
      flag: '--out',
      type: 'string',
      value: 'dir',
      default: '.',
      description: 'where a failing sequence is written, shrunk, as a scenario',
    },
    {
      flag: '--replay',
      type: 'string',
      value: 'file',
      description: 'check the invariants on one scenario (a file --out wrote) instead',
    },
    {
      flag: '--json',
      type: 'boolean',
      description: 'print the figures, or the failure, as JSON (shape: tools/cli/README.md)',
    },
    {
      flag: '--self-test',
      type: 'boolean',
      description:
        'generate RFC v4 sequences and hold them to the reviewed promises: the invariants must catch it',
    },
  ],
  // 0 every invariant held, 1 a violation (written out).
  action: async ({ options }, io) => {
    const { checkScenario, runCampaign } = await import('@snp-ref/scenario/fuzz');
    const files = filesOf(io);
    if (options.replay !== undefined) {
      const scenario = files.readJson(options.replay);
      // A file that is no scenario is the user's input error, not a generator bug (exit 2).
      await validScenario(options.replay, scenario);
      return replayReport(io, checkScenario(scenario as GeneratedScenario, options.selfTest), options.json);
    }
    const seed = count('--seed', options.seed, 0);
    const shard = shardOf(options.shard);
    const runs = count('--runs', options.runs, 1);
    const steps = count('--steps', options.steps, 1);
    const jobs = Math.min(count('--jobs', options.jobs, 1), runs);
    if (jobs > 1 && shard)
      throw new CliInputError('USAGE', '--jobs and --shard: a shard runs in one process');
    const campaign = { runs, seed, steps, selfTest: options.selfTest };
    const progress = jobs > 1 ? undefined : progressOn(io, 'fuzzing');
    const r =
      jobs > 1
        ? await runInProcesses(io, files, campaign, jobs)
        : runCampaign({
            runs,
            seed,
            steps,
            ...(shard && { shard }),
            ...(options.selfTest && { v4AsReviewed: true }),
            ...(progress && { onProgress: progress }),
          });
    progress?.(0, 0);
    return report(io, files, r, { seed, out: options.out, selfTest: options.selfTest, json: options.json });
  },
});
