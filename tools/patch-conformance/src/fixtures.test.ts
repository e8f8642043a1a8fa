import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conform, MODEL_PACKAGES } from './conform.js';
import { RULES } from './rules/rules.js';
import { recountHunks } from './test/patchText.js';

const repo = resolve(import.meta.dirname, '../../..');
const work = mkdtempSync(join(tmpdir(), 'conform-fixture-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Edit = readonly [file: string, edit: (text: string) => string];

/** A copy of the model and the reviewed patch with deliberate breaks, each an edit of one file. */
function broken(edits: readonly Edit[]): { root: string; patch: string } {
  const root = mkdtempSync(join(work, 'root-'));
  for (const pkg of MODEL_PACKAGES)
    cpSync(join(repo, pkg, 'src'), join(root, pkg, 'src'), { recursive: true });
  cpSync(join(repo, 'patches'), join(root, 'patches'), { recursive: true });
  for (const [file, edit] of edits) {
    const target = join(root, file);
    const before = readFileSync(target, 'utf8');
    const after = edit(before);
    if (after === before) throw new Error(`the fixture edit changed nothing in ${file}`);
    writeFileSync(target, after);
  }
  return { root, patch: join(root, 'patches/reviewed.patch') };
}

const LAUNCH_UPDATE = 'packages/kvm-svm/src/snp/launchUpdate.ts';
const STRUCTS = 'packages/kvm-svm/src/uapi/structs.ts';
const PATCH = 'patches/reviewed.patch';
const FIXTURES: readonly [rule: string, what: string, edits: readonly Edit[]][] = [
  [
    'no-memslot-srcu',
    'a TS launch update that consults memslots',
    [
      [
        LAUNCH_UPDATE,
        (t) =>
          t.replace(
            '  const pages = len / PAGE_SIZE;',
            '  const pages = len / PAGE_SIZE;\n  vm.memslots.gpaOf(hva);',
          ),
      ],
    ],
  ],
  [
    'no-memslot-srcu',
    'a memslot lookup in a helper the launch update calls, reached through the type checker',
    [
      [
        LAUNCH_UPDATE,
        (t) =>
          t.replace(
            '  const status = firmwareLaunchUpdate(vm.machine, gctx, pfn, type);',
            '  const slots = vm.memslots;\n  slots.byHva(pfn);\n  const status = firmwareLaunchUpdate(vm.machine, gctx, pfn, type);',
          ),
      ],
    ],
  ],
  [
    'four-kib-only',
    'a TS launch update with a page level',
    [
      [
        LAUNCH_UPDATE,
        (t) =>
          t.replace(
            '  const pages = len / PAGE_SIZE;',
            '  const level = 1;\n  const pages = len / (PAGE_SIZE << (9 * (level - 1)));',
          ),
      ],
    ],
  ],
  [
    'revert-only-touched',
    'a TS revert of every pinned page',
    [
      [
        LAUNCH_UPDATE,
        (t) =>
          t.replace(
            '  const leaked = result.ok ? [] : revertTouched(vm, changed);',
            '  if (!result.ok) for (const pfn of pfns) vm.machine.hostRmp.resetToHypervisor(pfn, "kvm");\n  const leaked: number[] = [];',
          ),
      ],
    ],
  ],
  [
    'dirty-accessed-unpin',
    'C that never unpins',
    [[PATCH, (t) => recountHunks(t.replace('+\t\tunpin_user_page(pages[i]);\n', ''))]],
  ],
  [
    'uapi-codec-layout',
    'a codec with a shifted field',
    [[STRUCTS, (t) => t.replace("len: [16, 'u64'],", "len: [20, 'u64'],")]],
  ],
  [
    'uapi-hva-and-gpa',
    'a uAPI struct without the gpa, in C and in the codec',
    [
      [PATCH, (t) => t.replace('+\t__u64 gfn_start;', '+\t__u64 start;')],
      [STRUCTS, (t) => t.replace('  gfnStart: [0,', '  start: [0,')],
    ],
  ],
  [
    'traced-rmpupdate',
    'a TS rmpupdate() that is not traced',
    [
      [
        'packages/rmp-core/src/hostRmp.ts',
        (t) =>
          t.replace(
            "    return traceChange(\n      this.table,\n      'rmpupdate',",
            "    return untraced(\n      this.table,\n      'rmpupdate',",
          ),
      ],
    ],
  ],
];

describe('deliberately broken fixtures', () => {
  it('covers every rule', () => {
    expect(new Set(FIXTURES.map(([rule]) => rule))).toEqual(new Set(RULES.map((r) => r.id)));
  });

  it.each(FIXTURES)('%s catches %s, and without that rule the fixture passes', async (rule, _, edits) => {
    const { root, patch } = broken(edits);
    const report = await conform(root, patch);
    expect(report.findings.map((f) => f.rule)).toContain(rule);
    expect(report.findings.every((f) => f.rule === rule)).toBe(true);
    const without = await conform(
      root,
      patch,
      RULES.filter((r) => r.id !== rule),
    );
    expect(without.findings).toEqual([]);
  });

  it('dynamic-trace catches C that reverts one page too few, and the static rules do not', async () => {
    const { root, patch } = broken([
      [PATCH, (t) => t.replace('+\twhile (changed--) {', '+\twhile (--changed > 0) {')],
    ]);
    expect((await conform(root, patch)).findings).toEqual([]);
    const report = await conform(root, patch, [], { dynamic: true });
    expect(report.findings.map((f) => f.message)).toContainEqual(
      expect.stringMatching(/^scenario 02-firmware-fails-midway: event \d+ differs/),
    );
  });
});
