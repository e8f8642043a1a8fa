// The fixture corpus (test/fixtures, README "Fixture corpus"): patches and model edits written the
// way kernel developers write them, each with the verdict snp-conform must give. KNOWN_GAPS lists
// the fixtures the tool still gets wrong; for those the test asserts the verdict is STILL wrong, so
// a fixed gap fails here until its entry is removed (a ratchet).
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conform, MODEL_PACKAGES } from './conform.js';
import { DYNAMIC_RULE, HARNESS_RULES } from './dynamic/index.js';
import { RULES } from './rules/rules.js';

const repo = resolve(import.meta.dirname, '../../..');
const FIXTURES = resolve(import.meta.dirname, '../test/fixtures');

/** The classes of the issue ("judge a patch by what its code does"), each needing one fixture or more. */
const CLASSES = [
  'memslot-lookup',
  'two-mib-path',
  'revert-range',
  'release-one-path',
  'rmp-write-bypass',
  'harmless-trace-locals',
  'harmless-firmware-helper',
  'harmless-release-order',
  'harmless-hunk-order',
  'harmless-kernel-vocabulary',
] as const;
/** Further classes: controls and rewrites beyond the list. */
const MORE_CLASSES = ['harmless-style', 'release-missing'] as const;

interface Fixture {
  readonly name: string;
  /** `c`: test/fixtures/c/<name>.patch checked against the model; `ts`: test/fixtures/ts/<name>.json edits of a copy of the model, checked against patches/reviewed.patch. */
  readonly kind: 'c' | 'ts';
  readonly class: (typeof CLASSES)[number] | (typeof MORE_CLASSES)[number];
  readonly shows: string;
  /** `clean`, or exactly the rule ids that must fire. */
  readonly verdict: 'clean' | readonly string[];
  /** The point of docs/review.md a defect breaks; absent for a harmless rewrite. */
  readonly reviewPoint?: number;
  /** Also compile and run the patch's C (the dynamic rule and the harness's rules). */
  readonly dynamic: boolean;
}

/** An edit of one model file: `find` must occur once, or with `all` anywhere as a whole word. */
interface Edit {
  readonly file: string;
  readonly find: string;
  readonly replace: string;
  readonly all?: boolean;
}

/** Fixture → what snp-conform gets wrong today. Remove an entry when the tool gets it right. */
const KNOWN_GAPS: Readonly<Record<string, string>> = {};

const manifest: readonly Fixture[] = JSON.parse(
  readFileSync(join(FIXTURES, 'manifest.json'), 'utf8'),
).fixtures;
const DYNAMIC_IDS = new Set<string>([DYNAMIC_RULE.id, ...HARNESS_RULES.map((r) => r.id)]);
const RULE_IDS = new Set<string>([...RULES.map((r) => r.id), ...DYNAMIC_IDS]);

const work = mkdtempSync(join(tmpdir(), 'conform-corpus-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function applyEdit(text: string, edit: Edit): string {
  if (edit.all === true) {
    const word = (c: string | undefined) => c !== undefined && /[\w$]/.test(c);
    const pattern = new RegExp(
      `${word(edit.find[0]) ? '(?<![\\w$])' : ''}${literal(edit.find)}${word(edit.find.at(-1)) ? '(?![\\w$])' : ''}`,
      'g',
    );
    const after = text.replace(pattern, () => edit.replace);
    if (after === text) throw new Error(`${edit.file}: "${edit.find}" does not occur`);
    return after;
  }
  const at = text.indexOf(edit.find);
  if (at < 0 || text.indexOf(edit.find, at + 1) >= 0)
    throw new Error(`${edit.file}: "${edit.find.slice(0, 60)}" must occur exactly once`);
  return text.slice(0, at) + edit.replace + text.slice(at + edit.find.length);
}

/** A copy of the model packages and patches/ with the fixture's edits applied: its root and patch. */
function editedModel(name: string): { root: string; patch: string } {
  const { edits } = JSON.parse(readFileSync(join(FIXTURES, 'ts', `${name}.json`), 'utf8')) as {
    edits: readonly Edit[];
  };
  const root = mkdtempSync(join(work, `${name}-`));
  for (const pkg of MODEL_PACKAGES)
    cpSync(join(repo, pkg, 'src'), join(root, pkg, 'src'), { recursive: true });
  cpSync(join(repo, 'patches'), join(root, 'patches'), { recursive: true });
  for (const edit of edits) {
    const target = join(root, edit.file);
    writeFileSync(target, applyEdit(readFileSync(target, 'utf8'), edit));
  }
  return { root, patch: join(root, 'patches/reviewed.patch') };
}

/** The rule ids a fixture gets today, sorted; an input error (exit 2) counts as its own verdict. */
async function verdictOf(fixture: Fixture): Promise<{ rules: string[]; detail: string[] }> {
  const { root, patch } =
    fixture.kind === 'c'
      ? { root: repo, patch: join(FIXTURES, 'c', `${fixture.name}.patch`) }
      : editedModel(fixture.name);
  try {
    const report = await conform(root, patch, RULES, { dynamic: fixture.dynamic });
    return {
      rules: [...new Set(report.findings.map((f) => f.rule))].sort(),
      detail: report.findings.map((f) => `${f.rule}: ${f.message}`),
    };
  } catch (error) {
    const message = `input error: ${(error as Error).message}`;
    return { rules: [message], detail: [message] };
  }
}

describe('the fixture corpus', () => {
  it('has at least 30 fixtures, C and TypeScript, one per class or more, each with its file', () => {
    const names = manifest.map((f) => f.name);
    expect(names.length).toBeGreaterThanOrEqual(30);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(manifest.map((f) => f.kind))).toEqual(new Set(['c', 'ts']));
    for (const cls of CLASSES)
      expect(
        manifest.filter((f) => f.class === cls),
        cls,
      ).not.toEqual([]);
    for (const f of manifest) expect([...CLASSES, ...MORE_CLASSES], f.name).toContain(f.class);
    const files = (kind: string, ext: string) =>
      readdirSync(join(FIXTURES, kind))
        .filter((file) => file.endsWith(ext))
        .map((file) => file.slice(0, -ext.length))
        .sort();
    expect(files('c', '.patch')).toEqual(names.filter((_, i) => manifest[i]?.kind === 'c').sort());
    expect(files('ts', '.json')).toEqual(names.filter((_, i) => manifest[i]?.kind === 'ts').sort());
  });

  it('gives each defect a review point and rules that exist, and each harmless rewrite none', () => {
    for (const f of manifest) {
      if (f.verdict === 'clean') {
        expect(f.reviewPoint, f.name).toBeUndefined();
        continue;
      }
      expect(f.reviewPoint, f.name).toBeGreaterThanOrEqual(1);
      expect(f.reviewPoint, f.name).toBeLessThanOrEqual(6);
      expect(f.verdict.length, f.name).toBeGreaterThan(0);
      for (const rule of f.verdict) expect(RULE_IDS, `${f.name}: ${rule}`).toContain(rule);
      // Only a fixture whose C is compiled can expect the dynamic rule or the harness's.
      if (!f.dynamic)
        expect(
          f.verdict.filter((r) => DYNAMIC_IDS.has(r)),
          f.name,
        ).toEqual([]);
      // The model's copy is never compiled: a TypeScript fixture is judged statically.
      if (f.kind === 'ts') expect(f.dynamic, f.name).toBe(false);
    }
  });

  it('lists in KNOWN_GAPS only fixtures of the manifest', () => {
    const names = new Set(manifest.map((f) => f.name));
    for (const name of Object.keys(KNOWN_GAPS)) expect(names, name).toContain(name);
  });

  it('is counted right in the README', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../README.md'), 'utf8').replace(/\s+/g, ' ');
    const count = (keep: (f: Fixture) => boolean) => manifest.filter(keep).length;
    expect(readme).toContain(
      `Now: ${manifest.length} fixtures (${count((f) => f.kind === 'c')} C, ${count((f) => f.kind === 'ts')} TypeScript; ` +
        `${count((f) => f.verdict !== 'clean')} defects, ${count((f) => f.verdict === 'clean')} harmless rewrites); ` +
        `known gaps: ${Object.keys(KNOWN_GAPS).length}.`,
    );
  });

  it.each(manifest)('$name ($class)', async (fixture) => {
    if (fixture.kind === 'c') expect(existsSync(join(FIXTURES, 'c', `${fixture.name}.patch`))).toBe(true);
    const expected = fixture.verdict === 'clean' ? [] : [...fixture.verdict].sort();
    const { rules, detail } = await verdictOf(fixture);
    const gap = KNOWN_GAPS[fixture.name];
    if (gap === undefined) {
      expect({ rules, detail }, fixture.shows).toEqual({ rules: expected, detail: expect.anything() });
    } else {
      expect(
        rules,
        `${fixture.name} now gets its verdict (${JSON.stringify(expected)}): remove it from KNOWN_GAPS ("${gap}")`,
      ).not.toEqual(expected);
    }
  });
});
