import { relative } from 'node:path';
import { type CModel, type PairedBy, parseCSources } from './c/cModel.js';
import { type Flavour, type Patch, readPatch } from './c/patch.js';
import { dynamicFindings, dynamicRuns } from './dynamic/index.js';
import type { Location, PatchRef } from './input.js';
import { type FlavourChoice, inferFlavour } from './pairing/flavour.js';
import type { MapEntry } from './pairing/mapFile.js';
import { pairEntities, type Unpaired } from './pairing/pair.js';
import { notAnalysedCalls, reachesCall } from './rules/cFacts.js';
import type { Finding, Rule } from './rules/rule.js';
import { RULES } from './rules/rules.js';
import type { SkippedMessage } from './series/mail.js';
import { loadTsModel, type TsModel } from './ts/tsModel.js';

export const MODEL_PACKAGES = ['packages/rmp-core', 'packages/psp-firmware', 'packages/kvm-svm'];

/** The rule a hunk that does not apply breaks (listed with the others in reports). */
export const SERIES_RULE = {
  id: 'series-apply',
  rationale:
    'A series is checked as it leaves the tree: each hunk must apply to what the patches before it left.',
} as const;

/** A model entity and the C it was paired with. */
export interface PairedEntity {
  readonly entity: string;
  readonly name: string;
  readonly kind: 'function' | 'struct';
  readonly by: PairedBy;
  readonly at: Location;
}

export interface ConformReport {
  readonly patch: string;
  readonly flavour: Flavour;
  /** How the flavour was chosen: the patch's flavour line, --flavour, or its uAPI struct's layout. */
  readonly flavourFrom: string;
  /** The posted patches checked, in order (empty for an annotated patch or a bare diff). */
  readonly patches: readonly PatchRef[];
  /** Messages of the input left out (cover letter, replies, other versions), and patch numbers missing. */
  readonly skipped: readonly SkippedMessage[];
  readonly missing: readonly number[];
  readonly paired: readonly PairedEntity[];
  /** Model entities the input holds nothing for, each with how to pair it. */
  readonly unpaired: readonly Unpaired[];
  readonly findings: readonly Finding[];
  /** Calls the patch's C makes into code neither it nor the rules' catalogue describes: never trusted, never a finding. */
  readonly notAnalysed: readonly string[];
  /** What the rules remark without finding fault. */
  readonly notes: readonly string[];
}

export interface ConformOptions {
  /** Also compile the patch's C and compare its traces with the TS model's (needs `cc`). */
  readonly dynamic?: boolean;
  /** The flavour of a patch without a flavour line (else inferred). */
  readonly flavour?: Flavour;
  /** A map file's pairings (`--map`), named by `file` in reports. */
  readonly map?: { readonly file: string; readonly entries: readonly MapEntry[] };
}

/** Rules whose findings, on a posted series, say what snp-conform could not do rather than what the patch does wrong. */
const OURS_ON_POSTED = new Set<string>(['harness-refused', 'harness-build']);

/** The entity ids the model tags (`@conforms`), in any flavour: what a patch can be paired with. */
export function modelEntities(root: string): Set<string> {
  return new Set(loadTsModel(root, MODEL_PACKAGES).entities.map((e) => e.id));
}

/**
 * Checks a patch (a path to one annotated patch, or one read with `parsePatch`) against the TS
 * model under `root`: pairs its C with the model's entities, runs every static rule, and with
 * `dynamic` the reference harness.
 */
export async function conform(
  root: string,
  input: string | Patch,
  rules: readonly Rule[] = RULES,
  options: ConformOptions = {},
): Promise<ConformReport> {
  const patch = typeof input === 'string' ? readPatch(input, relative(root, input)) : input;
  const ts = loadTsModel(root, MODEL_PACKAGES);
  const parsed = await parseCSources(patch);
  const pairing = pairEntities(parsed, modelEntities(root), options.map);
  const launch = pairing.entities.get('kvm.snp_launch_update');
  const viaGuestMemfd =
    launch !== undefined && reachesCall(parsed, launch.node, (name) => name === 'kvm_gmem_populate');
  const choice = flavourOf(patch, options.flavour, () =>
    inferFlavour(pairing.entities.get('uapi.kvm_sev_snp_launch_update'), ts, viaGuestMemfd),
  );
  const c: CModel = { ...parsed, flavour: choice.flavour, entities: pairing.entities };
  const posted = patch.annotatedFlavour === undefined;
  const findings: Finding[] = patch.failures.map((f) => ({
    rule: SERIES_RULE.id,
    message: `${f.path}: hunk ${f.hunk} does not apply: ${f.why}`,
    c: { ...f.at, ...(f.patch.subject === undefined ? {} : { patch: f.patch }) },
  }));
  findings.push(...rules.flatMap((rule) => rule.check({ c, ts, root })));
  const notes = [...pairing.notes, ...rules.flatMap((rule) => rule.notes?.({ c, ts, root }) ?? [])];
  if (options.dynamic === true) {
    const dynamic = dynamicCheck(c, ts, root, posted);
    findings.push(...dynamic.findings);
    notes.push(...dynamic.notes);
  }
  // On a posted series, what the model alone does (the v4 model breaks the review by design) says
  // nothing about the series: counted in a note, kept out of the findings and the exit code.
  const inModel = posted ? findings.filter((f) => f.c === undefined) : [];
  if (inModel.length > 0)
    notes.push(
      `the model's ${c.flavour} flow breaks ${[...new Set(inModel.map((f) => f.rule))].join(', ')} too (${inModel.length} finding${inModel.length === 1 ? '' : 's'} in the model, none in this input, left out here)`,
    );
  notes.push(
    ...parsed.withErrors.map(
      (f) =>
        `${f.name}() (${f.location.file}:${f.location.line}) has constructs tree-sitter-c does not parse (kernel macros?): what is inside them is not analysed`,
    ),
  );
  return {
    patch: patch.file,
    flavour: c.flavour,
    flavourFrom: choice.why,
    patches: patch.series.messages.flatMap((m) => (m.ref.subject === undefined ? [] : [m.ref])),
    skipped: patch.series.skipped,
    missing: patch.series.missing,
    paired: [...c.entities.values()].map((e) => ({
      entity: e.id,
      name: e.name,
      kind: e.kind,
      by: e.by,
      at: e.location,
    })),
    unpaired: pairing.unpaired,
    findings: findings.filter((f) => !inModel.includes(f)).map((f) => quoted(f, patch)),
    notAnalysed: notAnalysedCalls(c),
    notes,
  };
}

/**
 * The reference harness on the patch's C, against the reviewed model (the upstream one for an
 * upstream patch): its findings, and notes where it could not run (on a posted series, C its shims
 * cannot build).
 */
function dynamicCheck(c: CModel, ts: TsModel, root: string, posted: boolean) {
  const findings: Finding[] = [];
  const notes: string[] = [];
  if (c.entities.has('kvm.snp_launch_update')) {
    const flow = c.flavour === 'upstream' ? 'upstream' : 'reviewed';
    const reference = ts.entities.find((e) => e.id === 'kvm.snp_launch_update' && e.flavour === flow);
    for (const finding of dynamicFindings(c, reference?.location, dynamicRuns(root, c.flavour))) {
      if (posted && OURS_ON_POSTED.has(finding.rule))
        notes.push(`not run against the model: ${finding.message}`);
      else findings.push(finding);
    }
  }
  return { findings, notes };
}

function flavourOf(patch: Patch, option: Flavour | undefined, infer: () => FlavourChoice): FlavourChoice {
  if (patch.annotatedFlavour !== undefined)
    return {
      flavour: patch.annotatedFlavour,
      why: `the patch's flavour line${option !== undefined && option !== patch.annotatedFlavour ? ` (it wins over --flavour ${option})` : ''}`,
    };
  return option === undefined ? infer() : { flavour: option, why: '--flavour' };
}

/** A finding with the input line it is located at, as the input has it, to quote. */
function quoted(finding: Finding, patch: Patch): Finding {
  const at = finding.c;
  const quote = at === undefined ? undefined : patch.sources.get(at.file)?.[at.line - 1];
  return quote === undefined ? finding : { ...finding, quote };
}
