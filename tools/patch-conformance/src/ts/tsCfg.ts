import { Node, SyntaxKind } from 'ts-morph';
import { type Cfg, type CfgNode, cfgBuilder, type Jumps } from '../rules/flow.js';

/**
 * The control-flow graph of a TypeScript function or method body: if/else, loops, switch, return
 * and throw (both leave the function), break, continue. Closures count where they are written.
 */
export function buildTsCfg(fn: Node): Cfg<Node> {
  const { node, exit, loop, finish } = cfgBuilder<Node>();
  const sequence = (stmts: readonly Node[], next: CfgNode<Node>, jumps: Jumps<Node>) =>
    stmts.reduceRight<CfgNode<Node>>((after, s) => build(s, after, jumps), next);

  const build = (stmt: Node | undefined, next: CfgNode<Node>, jumps: Jumps<Node>): CfgNode<Node> => {
    if (stmt === undefined) return next;
    if (Node.isBlock(stmt)) return sequence(stmt.getStatements(), next, jumps);
    if (Node.isIfStatement(stmt))
      return node('branch', stmt.getExpression(), [
        { to: build(stmt.getThenStatement(), next, jumps), when: true },
        { to: build(stmt.getElseStatement(), next, jumps), when: false },
      ]);
    if (Node.isForStatement(stmt)) {
      const after = loop(stmt.getCondition(), stmt.getIncrementor(), next, jumps, (latch, inner) =>
        build(stmt.getStatement(), latch, inner),
      );
      const init = stmt.getInitializer();
      return init === undefined ? after : node('stmt', init, [{ to: after }]);
    }
    if (
      Node.isForOfStatement(stmt) ||
      Node.isForInStatement(stmt) ||
      Node.isWhileStatement(stmt) ||
      Node.isDoStatement(stmt)
    )
      return loop(stmt.getExpression(), undefined, next, jumps, (latch, inner) =>
        build(stmt.getStatement(), latch, inner),
      );
    if (Node.isReturnStatement(stmt) || Node.isThrowStatement(stmt))
      return node('return', stmt, [{ to: exit }]);
    if (Node.isBreakStatement(stmt)) return node('stmt', undefined, [{ to: jumps.breakTo ?? next }]);
    if (Node.isContinueStatement(stmt))
      return node('stmt', undefined, [{ to: jumps.continueTo ?? next, skip: true }]);
    if (Node.isLabeledStatement(stmt)) return build(stmt.getStatement(), next, jumps);
    if (Node.isSwitchStatement(stmt)) {
      const after = node('join', undefined, [{ to: next }]);
      const clauses = stmt.getClauses();
      const entries: CfgNode<Node>[] = [];
      // Each clause falls through into the next; the head jumps to any of them (or past all of them).
      for (const clause of [...clauses].reverse())
        entries.unshift(sequence(clause.getStatements(), entries[0] ?? after, { ...jumps, breakTo: after }));
      const hasDefault = clauses.some((c) => c.getKind() === SyntaxKind.DefaultClause);
      return node('branch', stmt.getExpression(), [
        ...entries.map((to) => ({ to })),
        ...(hasDefault ? [] : [{ to: after }]),
      ]);
    }
    return node('stmt', stmt, [{ to: next }]);
  };

  const body =
    Node.isFunctionDeclaration(fn) ||
    Node.isMethodDeclaration(fn) ||
    Node.isArrowFunction(fn) ||
    Node.isFunctionExpression(fn)
      ? fn.getBody()
      : undefined;
  return finish((fallOff) => build(body, fallOff, {}));
}

/** The calls a TS CFG node makes itself. */
export function tsNodeCalls(node: CfgNode<Node>): Node[] {
  const ast = node.ast;
  if (ast === undefined) return [];
  return [
    ...(Node.isCallExpression(ast) ? [ast] : []),
    ...ast.getDescendantsOfKind(SyntaxKind.CallExpression),
  ];
}
