import { Node, SyntaxKind } from 'ts-morph';

/** The declaration a name (an identifier, a property access, a call's callee) resolves to, through imports. */
export function declarationOf(node: Node): Node | undefined {
  const target = Node.isCallExpression(node) ? node.getExpression() : node;
  const name = Node.isPropertyAccessExpression(target) ? target.getNameNode() : target;
  const symbol = name.getSymbol();
  const resolved = symbol?.isAlias() === true ? symbol.getAliasedSymbol() : symbol;
  return resolved?.getDeclarations()[0];
}

/** The code a declaration runs when called: a function, a method, or a const bound to an arrow or function expression. */
export function bodyOf(declaration: Node): Node | undefined {
  if (Node.isFunctionDeclaration(declaration) || Node.isMethodDeclaration(declaration)) return declaration;
  if (Node.isVariableDeclaration(declaration)) {
    const init = declaration.getInitializer();
    if (Node.isArrowFunction(init) || Node.isFunctionExpression(init)) return init;
  }
  return undefined;
}

/** Where a declaration is: its file relative to `root`, and its name qualified by its class. */
export function declarationKey(declaration: Node, root: string): { file: string; name: string } {
  const file = declaration
    .getSourceFile()
    .getFilePath()
    .slice(root.length + 1);
  const own = Node.hasName(declaration) ? declaration.getName() : '';
  const owner = declaration.getFirstAncestorByKind(SyntaxKind.ClassDeclaration)?.getName();
  return { file, name: owner === undefined || owner === own ? own : `${owner}.${own}` };
}

/** The calls under `node`, each with the model code it runs (undefined outside the model). */
export function callsIn(node: Node): { call: Node; declaration: Node | undefined }[] {
  return node
    .getDescendantsOfKind(SyntaxKind.CallExpression)
    .map((call) => ({ call, declaration: declarationOf(call) }));
}

/** The model functions reachable from `start` through resolved calls (start included), not entering `stop`. */
export function reachableFrom(start: Node, stop: (declaration: Node) => boolean = () => false): Node[] {
  const seen = new Set<Node>([start]);
  const queue = [start];
  for (let node = queue.pop(); node !== undefined; node = queue.pop()) {
    for (const { declaration } of callsIn(node)) {
      const body = declaration === undefined || stop(declaration) ? undefined : bodyOf(declaration);
      if (body !== undefined && !seen.has(body)) {
        seen.add(body);
        queue.push(body);
      }
    }
  }
  return [...seen];
}

/** Whether TS code reaches, through resolved calls, a declaration satisfying `wanted`. */
export function reaches(node: Node, wanted: (declaration: Node) => boolean): boolean {
  const seen = new Set<Node>();
  const queue = [node];
  for (let n = queue.pop(); n !== undefined; n = queue.pop()) {
    for (const { declaration } of callsIn(n)) {
      if (declaration === undefined) continue;
      if (wanted(declaration)) return true;
      const body = bodyOf(declaration);
      if (body !== undefined && !seen.has(body)) {
        seen.add(body);
        queue.push(body);
      }
    }
  }
  return false;
}
