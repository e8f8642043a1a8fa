// The scenarios the dynamic rule runs: snp-conform's own (scenarios/) and the CLI's examples where
// the harness applies. All are in the scenario format of @snp-ref/scenario.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '@snp-ref/scenario';
import type { Flavour } from '../c/patch.js';
import { ConformInputError } from '../input.js';
import { flowOf, type HarnessRun, harnessRuns, type ModelFlow } from './modelRun.js';

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

/** snp-conform's own scenarios of a flow, each with its failure paths: every one must be runnable by the harness. */
function conformScenarios(flow: ModelFlow, dir = SCENARIOS): HarnessRun[] {
  return scenarioFiles(dir).flatMap((file) => {
    const scenario = readScenario(join(dir, file));
    if (flowOf(scenario) !== flow) return [];
    const runs = harnessRuns(file.replace(/\.json$/, ''), scenario);
    if (typeof runs === 'string')
      throw new ConformInputError(`${join(dir, file)}: the harness cannot run ${runs}`);
    return runs;
  });
}

/** The CLI examples of a flow the harness can run, with their failure paths, from the repository at `root` (none if it has no CLI). */
function cliExampleScenarios(flow: ModelFlow, root: string): HarnessRun[] {
  const dir = join(root, CLI_EXAMPLES);
  if (!existsSync(dir)) return [];
  return scenarioFiles(dir).flatMap((file) => {
    const scenario = readScenario(join(dir, file));
    if (flowOf(scenario) !== flow) return [];
    const runs = harnessRuns(`cli/${file.replace(/\.json$/, '')}`, scenario);
    return typeof runs === 'string' ? [] : runs;
  });
}

/**
 * Every scenario and failure path of the repository at `root` that a patch of `flavour` is run on,
 * with the model's traces: the upstream ABI's scenarios on the upstream model for an upstream
 * patch, the others on the reviewed model for the rest. They do not depend on the patch, so
 * `snp-conform A.patch B.patch` runs the model once per flow: the last root is kept.
 */
export function dynamicRuns(root: string, flavour: Flavour): readonly HarnessRun[] {
  const flow: ModelFlow = flavour === 'upstream' ? 'upstream' : 'reviewed';
  if (last?.root !== root) last = { root, runs: new Map() };
  let runs = last.runs.get(flow);
  if (runs === undefined) {
    runs = [...conformScenarios(flow), ...cliExampleScenarios(flow, root)];
    last.runs.set(flow, runs);
  }
  return runs;
}

let last: { readonly root: string; readonly runs: Map<ModelFlow, readonly HarnessRun[]> } | undefined;
