// The scenarios the dynamic rule runs: snp-conform's own (scenarios/) and the CLI's examples where
// the harness applies. All are in the scenario format of @snp-ref/scenario.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '@snp-ref/scenario';
import { ConformInputError } from '../input.js';
import { type HarnessRun, harnessRuns } from './modelRun.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');
/** The CLI's example scenarios, relative to the repository root. */
const CLI_EXAMPLES = 'tools/cli/examples';

const scenarioFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'))
    .sort();

function readScenario(file: string) {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConformInputError(`${file}: not JSON (${(error as Error).message})`);
  }
  const parsed = parseScenario(json);
  if (!parsed.ok)
    throw new ConformInputError(parsed.problems.map((p) => `${file}: ${p.path}: ${p.message}`).join('\n'));
  return parsed.scenario;
}

/** snp-conform's own scenarios, each with its failure paths: every one must be runnable by the harness. */
function conformScenarios(dir = SCENARIOS): HarnessRun[] {
  return scenarioFiles(dir).flatMap((file) => {
    const runs = harnessRuns(file.replace(/\.json$/, ''), readScenario(join(dir, file)));
    if (typeof runs === 'string')
      throw new ConformInputError(`${join(dir, file)}: the harness cannot run ${runs}`);
    return runs;
  });
}

/** The CLI examples the harness can run, with their failure paths, from the repository at `root` (none if it has no CLI). */
function cliExampleScenarios(root: string): HarnessRun[] {
  const dir = join(root, CLI_EXAMPLES);
  if (!existsSync(dir)) return [];
  return scenarioFiles(dir).flatMap((file) => {
    const runs = harnessRuns(`cli/${file.replace(/\.json$/, '')}`, readScenario(join(dir, file)));
    return typeof runs === 'string' ? [] : runs;
  });
}

/**
 * Every scenario and failure path of the repository at `root`, with the model's traces. They do not
 * depend on the patch, so `snp-conform A.patch B.patch` runs the model once: the last root is kept.
 */
export function dynamicRuns(root: string): readonly HarnessRun[] {
  if (last?.root !== root) last = { root, runs: [...conformScenarios(), ...cliExampleScenarios(root)] };
  return last.runs;
}

let last: { readonly root: string; readonly runs: readonly HarnessRun[] } | undefined;
