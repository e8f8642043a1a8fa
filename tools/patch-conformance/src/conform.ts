import { relative } from 'node:path';
import { loadCModel } from './c/cModel.js';
import { readPatch } from './c/patch.js';
import { dynamicFindings, dynamicRuns } from './dynamic/index.js';
import { ConformInputError } from './input.js';
import { notAnalysedCalls } from './rules/cFacts.js';
import type { Finding, Rule } from './rules/rule.js';
import { RULES } from './rules/rules.js';
import { loadTsModel } from './ts/tsModel.js';

export const MODEL_PACKAGES = ['packages/rmp-core', 'packages/psp-firmware', 'packages/kvm-svm'];

export interface ConformReport {
  readonly patch: string;
  readonly flavour: string;
  readonly paired: readonly string[];
  readonly findings: readonly Finding[];
  /** Calls the patch's C makes into code neither it nor the rules' catalogue describes: never trusted, never a finding. */
  readonly notAnalysed: readonly string[];
  /** What the rules remark without finding fault. */
  readonly notes: readonly string[];
}

export interface ConformOptions {
  /** Also compile the patch's C and compare its traces with the TS model's (needs `cc`). */
  readonly dynamic?: boolean;
}

/**
 * Checks one patch against the TS model under `root`: pairs the annotations, runs every static
 * rule, and with `dynamic` the reference harness.
 */
export async function conform(
  root: string,
  patchFile: string,
  rules: readonly Rule[] = RULES,
  options: ConformOptions = {},
): Promise<ConformReport> {
  const patch = readPatch(patchFile, patchFile === '-' ? '-' : relative(root, patchFile));
  const c = await loadCModel(patch);
  const ts = loadTsModel(root, MODEL_PACKAGES);
  for (const [id, entity] of c.entities) {
    if (!ts.entities.some((e) => e.id === id && e.flavour === patch.flavour)) {
      throw new ConformInputError(
        `${entity.location.file}:${entity.location.line}: @snp-ref ${id} (${patch.flavour}) has no TypeScript entity tagged @conforms ${id}${patch.flavour === 'v4' ? ' v4' : ''}`,
      );
    }
  }
  const findings = rules.flatMap((rule) => rule.check({ c, ts, root }));
  const notes = rules.flatMap((rule) => rule.notes?.({ c, ts, root }) ?? []);
  if (options.dynamic === true) {
    const reference = ts.entities.find((e) => e.id === 'kvm.snp_launch_update' && e.flavour === 'reviewed');
    findings.push(...dynamicFindings(c, reference?.location, dynamicRuns(root)));
  }
  return {
    patch: patch.file,
    flavour: patch.flavour,
    paired: [...c.entities.keys()],
    findings,
    notAnalysed: notAnalysedCalls(c),
    notes,
  };
}
