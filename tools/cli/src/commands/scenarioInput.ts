// Scenarios for run, rmp and demo. The scenario modules (zod, kvm-svm, guest) load only for the
// commands that need them: measure starts faster without them.
import { CliInputError } from '../commandLine/inputError.js';
import type { Files } from '../files.js';

export const scenarioModules = () => import('@snp-ref/scenario');

/** The scenario in `file` ("-": stdin), every problem with it named. */
export async function loadScenario(files: Files, file: string) {
  const { parseScenario } = await scenarioModules();
  const parsed = parseScenario(files.readJson(file));
  if (!parsed.ok)
    throw new CliInputError(
      'INPUT',
      parsed.problems.map((p) => `${p.path}: ${p.message}`),
    );
  return parsed.scenario;
}
