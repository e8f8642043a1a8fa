// Scenarios for run, rmp and demo. The scenario modules (zod, kvm-svm, guest) load only for the
// commands that need them: measure starts faster without them.
import { CliInputError } from '../commandLine/inputError.js';
import type { Files } from '../files.js';

export const scenarioModules = () => import('@snp-ref/scenario');

/** The scenario in `file` ("-": stdin), every problem with it named. */
export async function loadScenario(files: Files, file: string) {
  return validScenario(files.readJson(file));
}

/** A parsed JSON value as a valid scenario, or an input error naming every problem. */
export async function validScenario(value: unknown) {
  const { parseScenario } = await scenarioModules();
  const parsed = parseScenario(value);
  if (!parsed.ok)
    throw new CliInputError(
      'INPUT',
      parsed.problems.map((p) => `${p.path}: ${p.message}`),
    );
  return parsed.scenario;
}
