// Scenarios for run, rmp, fuzz --replay and demo. The scenario modules (zod, kvm-svm, guest) load
// only for the commands that need them: measure starts faster without them.
import { CliInputError } from '../commandLine/inputError.js';
import type { Files } from '../files.js';

export const scenarioModules = () => import('@snp-ref/scenario');

/** The scenario in `file` ("-": stdin), every problem with it named. */
export async function loadScenario(files: Files, file: string) {
  return validScenario(file, files.readJson(file));
}

/**
 * The JSON value read from `file` as a valid scenario, or an input error that names the file, says
 * it is not a scenario, and then names every problem at its JSON path.
 */
export async function validScenario(file: string, value: unknown) {
  const { parseScenario } = await scenarioModules();
  const parsed = parseScenario(value);
  if (!parsed.ok)
    throw new CliInputError('INPUT', [
      `${file}: not a scenario (its format: snp-ref schema)`,
      ...parsed.problems.map((p) => `${file}: ${p.path}: ${p.message}`),
    ]);
  return parsed.scenario;
}
