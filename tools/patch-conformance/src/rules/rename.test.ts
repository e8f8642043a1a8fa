import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Project, SyntaxKind, Node as TsNode } from 'ts-morph';
import { afterAll, describe, expect, it } from 'vitest';
import type { Node } from 'web-tree-sitter';
import { parseC } from '../c/cModel.js';
import { parsePatch } from '../c/patch.js';
import { type ConformReport, conform, MODEL_PACKAGES } from '../conform.js';

const repo = resolve(import.meta.dirname, '../../../..');
const work = mkdtempSync(join(tmpdir(), 'conform-rename-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const fresh = (k: number) => `zq${k}_x`;

/** The identifiers a C function binds itself: parameters, locals (any declarator) and labels. */
function cLocals(fn: Node): Set<string> {
  const names = new Set<string>();
  const declarators = fn.descendantsOfType(['parameter_declaration', 'declaration']);
  for (const d of declarators) {
    for (const child of d?.namedChildren ?? []) {
      if (child === null || child.type.endsWith('type_identifier') || child.type.includes('specifier'))
        continue;
      let target: Node | null = child;
      while (target !== null && target.type !== 'identifier')
        target = target.childForFieldName('declarator') ?? target.namedChildren[0] ?? null;
      if (target !== null) names.add(target.text);
    }
  }
  for (const label of fn.descendantsOfType('statement_identifier')) if (label !== null) names.add(label.text);
  return names;
}

const UAPI_STRUCT = 'kvm_sev_snp_launch_update';

/** The locals of a C function declared as the uAPI struct or a pointer to it. */
const uapiLocals = (fn: Node): Set<string> =>
  new Set(
    fn
      .descendantsOfType('declaration')
      .filter((d) => d?.childForFieldName('type')?.childForFieldName('name')?.text === UAPI_STRUCT)
      .flatMap((d) => (d === null ? [] : [...cLocals(d)])),
  );

/**
 * A patch with every local of every function renamed, and every field of the uAPI struct (in the
 * struct and in each `v.X` / `v->X` on a local of that type), in place on its lines (so locations stay).
 */
async function renamePatchLocals(text: string): Promise<{ text: string; renamed: number; fields: number }> {
  const lines = text.split('\n');
  let renamed = 0;
  const files = [];
  for (const file of parsePatch([{ name: 'p', text }], 'p').files)
    files.push({ file, tree: await parseC(file.code) });
  const fieldNodes = files.flatMap(({ tree }) =>
    (tree?.rootNode.descendantsOfType('struct_specifier') ?? [])
      .filter(
        (s) => s?.childForFieldName('name')?.text === UAPI_STRUCT && s.childForFieldName('body') !== null,
      )
      .flatMap((s) => s?.descendantsOfType('field_identifier') ?? []),
  );
  const fields = fieldNodes.map((f) => f?.text ?? '');
  for (const { file, tree } of files) {
    const edits: { row: number; column: number; from: string; to: string }[] = [];
    const renameField = (node: Node | null) => {
      const k = fields.indexOf(node?.text ?? '');
      if (node !== null && k >= 0) edits.push({ ...node.startPosition, from: node.text, to: `zf${k}_y` });
    };
    for (const node of fieldNodes) if (node?.tree === tree) renameField(node);
    for (const fn of tree?.rootNode.descendantsOfType('function_definition') ?? []) {
      if (fn === null) continue;
      const locals = [...cLocals(fn)];
      renamed += locals.length;
      for (const use of fn.descendantsOfType(['identifier', 'statement_identifier'])) {
        const k = locals.indexOf(use?.text ?? '');
        if (use !== null && k >= 0) edits.push({ ...use.startPosition, from: use.text, to: fresh(k) });
      }
      const structs = uapiLocals(fn);
      for (const access of fn.descendantsOfType('field_expression'))
        if (structs.has(access?.childForFieldName('argument')?.text ?? ''))
          renameField(access?.childForFieldName('field') ?? null);
    }
    // Right to left on each line, so earlier columns stay valid.
    for (const e of edits.sort((a, b) => b.row - a.row || b.column - a.column)) {
      const index = (file.lines[e.row]?.line ?? 0) - 1;
      const line = lines[index] ?? '';
      const at = e.column + 1; // after the diff's '+'
      expect(line.slice(at, at + e.from.length)).toBe(e.from);
      lines[index] = line.slice(0, at) + e.to + line.slice(at + e.from.length);
    }
  }
  return { text: lines.join('\n'), renamed, fields: fields.length };
}

/** Renames every parameter and local of the model's `@conforms` functions and methods (ts-morph, language service). */
function renameModelLocals(root: string): number {
  const project = new Project({ skipAddingFilesFromTsConfig: true });
  for (const pkg of MODEL_PACKAGES) project.addSourceFilesAtPaths(`${root}/${pkg}/src/**/*.ts`);
  let k = 0;
  for (const file of project.getSourceFiles()) {
    const starts = [
      ...file.getDescendantsOfKind(SyntaxKind.FunctionDeclaration),
      ...file.getDescendantsOfKind(SyntaxKind.MethodDeclaration),
    ]
      .filter((fn) =>
        /@conforms/.test(
          fn
            .getJsDocs()
            .map((d) => d.getText())
            .join('\n'),
        ),
      )
      .flatMap((fn) => [
        ...fn.getDescendantsOfKind(SyntaxKind.Parameter),
        ...fn.getDescendantsOfKind(SyntaxKind.VariableDeclaration),
        ...fn.getDescendantsOfKind(SyntaxKind.BindingElement),
      ])
      .map((b) => b.getNameNode())
      .filter((n) => TsNode.isIdentifier(n))
      .map((n) => n.getStart());
    // Last first: renaming a binding rewrites only text after it, so earlier positions stay (the nodes do not).
    for (const start of starts.sort((a, b) => b - a)) {
      const name = file.getDescendantAtPos(start);
      if (TsNode.isIdentifier(name)) name.rename(fresh(k++), { usePrefixAndSuffixText: true });
    }
  }
  project.saveSync();
  return k;
}

const verdict = (report: ConformReport) => ({
  findings: report.findings
    .map((f) => `${f.rule} C:${f.c?.line ?? '-'} TS:${f.ts?.file ?? '-'}:${f.ts?.line ?? '-'}`)
    .sort(),
  notAnalysed: report.notAnalysed,
});

describe('renaming any local identifier or uAPI field never changes a verdict', () => {
  it('gives both patches the same verdicts with every local and every uAPI field renamed, in the C and in the tagged TS', async () => {
    const root = mkdtempSync(join(work, 'root-'));
    for (const pkg of MODEL_PACKAGES)
      cpSync(join(repo, pkg, 'src'), join(root, pkg, 'src'), { recursive: true });
    cpSync(join(repo, 'patches'), join(root, 'patches'), { recursive: true });
    expect(renameModelLocals(root)).toBeGreaterThan(20);
    for (const name of ['reviewed.patch', 'v4.patch']) {
      const target = join(root, 'patches', name);
      const { text, renamed, fields } = await renamePatchLocals(readFileSync(target, 'utf8'));
      expect(renamed, name).toBeGreaterThan(8);
      expect(fields, name).toBeGreaterThan(6);
      expect(text, name).not.toMatch(/[.>](uaddr|len)\b/);
      writeFileSync(target, text);
      const before = await conform(repo, join(repo, 'patches', name));
      const after = await conform(root, target);
      expect(verdict(after), name).toEqual(verdict(before));
    }
    // The renames did land: the renamed names are in the copies.
    expect(readFileSync(join(root, 'patches/reviewed.patch'), 'utf8')).toMatch(/zq\d+_x\.zf\d+_y/);
    expect(readFileSync(join(root, 'packages/kvm-svm/src/snp/launchUpdate.ts'), 'utf8')).toMatch(/zq\d+_x/);
  }, 180_000); // copies and loads the model twice: about 40 s alone, more on a loaded machine
});
