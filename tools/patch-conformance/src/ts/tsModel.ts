import { type Node, Project, SyntaxKind } from 'ts-morph';
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
  /** Functions and methods by name, for call graphs (a name may have several). */
  readonly functions: ReadonlyMap<string, readonly Node[]>;
}

const TAG = /@conforms\s+([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)(?:\s+(reviewed|v4))?/g;

/** Loads the packages' sources (not their tests) with ts-morph and finds the tagged entities. */
export function loadTsModel(root: string, packages: readonly string[]): TsModel {
  const project = new Project({ skipAddingFilesFromTsConfig: true, skipFileDependencyResolution: true });
  for (const pkg of packages)
    project.addSourceFilesAtPaths([
      `${root}/${pkg}/src/**/*.ts`,
      `!${root}/${pkg}/src/**/*.test.ts`,
      `!${root}/${pkg}/src/test/**`,
    ]);
  const entities: TsEntity[] = [];
  const functions = new Map<string, Node[]>();
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
      if (node.getKind() !== SyntaxKind.VariableStatement)
        functions.set(name, [...(functions.get(name) ?? []), node]);
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
  return { entities, functions };
}

/** Names a TS function calls (the last part of a call's callee: `this.hostRmp.makePrivate` → makePrivate). */
export function tsCalls(node: Node): { name: string; node: Node }[] {
  return node.getDescendantsOfKind(SyntaxKind.CallExpression).map((call) => {
    const callee = call.getExpression();
    const name =
      callee.getKind() === SyntaxKind.PropertyAccessExpression
        ? callee.getLastChildOrThrow().getText()
        : callee.getText();
    return { name, node: call };
  });
}
