import { basename } from 'node:path';
import { type Node, Project, SyntaxKind, ts } from 'ts-morph';
import type { Flavour } from '../c/patch.js';
import type { Location } from '../input.js';

/** A TypeScript entity tagged `@conforms <id> [v4]` in its JSDoc. */
export interface TsEntity {
  readonly id: string;
  readonly flavour: Flavour;
  readonly name: string;
  readonly node: Node;
  readonly location: Location;
}

export interface TsModel {
  readonly entities: readonly TsEntity[];
  /** The repository root the model's files are under. */
  readonly root: string;
}

const TAG = /@conforms\s+([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)(?:\s+(reviewed|v4|upstream))?/g;

/**
 * Loads the packages' sources (not their tests) with ts-morph and finds the tagged entities. The
 * packages import each other as `@snp-ref/<dir>` (README.md, "Adding a package"); paths map those
 * to the sources, so the type checker resolves calls across packages, in a copy of the model too.
 */
export function loadTsModel(root: string, packages: readonly string[]): TsModel {
  const key = JSON.stringify([root, packages]);
  if (last?.key !== key) last = { key, model: load(root, packages) };
  return last.model;
}

/**
 * The model last loaded: `snp-conform` checks every patch against the same sources, and the type
 * checker's work is most of the cost. One entry only, so tests that load many edited copies of the
 * model hold one project at a time.
 */
let last: { readonly key: string; readonly model: TsModel } | undefined;

function load(root: string, packages: readonly string[]): TsModel {
  const project = new Project({
    skipAddingFilesFromTsConfig: true,
    skipFileDependencyResolution: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true,
      noLib: true,
      baseUrl: root,
      paths: Object.fromEntries(
        packages.map((pkg) => [`@snp-ref/${basename(pkg)}`, [`${pkg}/src/index.ts`]]),
      ),
    },
  });
  for (const pkg of packages)
    project.addSourceFilesAtPaths([
      `${root}/${pkg}/src/**/*.ts`,
      `!${root}/${pkg}/src/**/*.test.ts`,
      `!${root}/${pkg}/src/test/**`,
    ]);
  const entities: TsEntity[] = [];
  for (const file of project.getSourceFiles()) {
    const path = file.getFilePath().slice(root.length + 1);
    const named = [
      ...file.getDescendantsOfKind(SyntaxKind.FunctionDeclaration),
      ...file.getDescendantsOfKind(SyntaxKind.MethodDeclaration),
      ...file.getDescendantsOfKind(SyntaxKind.VariableStatement),
    ];
    for (const node of named) {
      const name =
        node.getKind() === SyntaxKind.VariableStatement
          ? (node.getFirstDescendantByKind(SyntaxKind.VariableDeclaration)?.getName() ?? '')
          : (node.getSymbol()?.getName() ?? '');
      const docs = node
        .getLeadingCommentRanges()
        .map((c) => c.getText())
        .join('\n');
      for (const match of docs.matchAll(TAG)) {
        entities.push({
          id: match[1] ?? '',
          flavour: (match[2] as Flavour | undefined) ?? 'reviewed',
          name,
          node,
          location: { file: path, line: node.getStartLineNumber() },
        });
      }
    }
  }
  return { entities, root };
}
