import type { Node } from 'web-tree-sitter';
import { type Cfg, type CfgNode, cfgBuilder, type Jumps } from '../rules/flow.js';

/** The control-flow graph of a C function_definition: if/else, loops, switch, goto and labels, return, break, continue. */
export function buildCfg(fn: Node): Cfg<Node> {
  const { node, exit, label, loop, finish } = cfgBuilder<Node>();
  const sequence = (stmts: readonly (Node | null)[], next: CfgNode<Node>, jumps: Jumps<Node>) =>
    stmts.reduceRight<CfgNode<Node>>((after, s) => build(s, after, jumps), next);

  const build = (stmt: Node | null | undefined, next: CfgNode<Node>, jumps: Jumps<Node>): CfgNode<Node> => {
    if (stmt === null || stmt === undefined) return next;
    const field = (name: string) => stmt.childForFieldName(name) ?? undefined;
    switch (stmt.type) {
      case 'compound_statement':
        return sequence(stmt.namedChildren, next, jumps);
      case 'comment':
        return next;
      case 'if_statement': {
        const alternative = field('alternative');
        return node('branch', field('condition'), [
          { to: build(field('consequence'), next, jumps), when: true },
          // The else clause's children: its statement, and any comment before it.
          { to: alternative ? sequence(alternative.namedChildren, next, jumps) : next, when: false },
        ]);
      }
      case 'while_statement':
      case 'do_statement':
        return loop(field('condition'), undefined, next, jumps, (latch, inner) =>
          build(field('body'), latch, inner),
        );
      case 'for_statement': {
        const after = loop(field('condition'), field('update'), next, jumps, (latch, inner) =>
          build(field('body'), latch, inner),
        );
        const init = field('initializer');
        return init === undefined ? after : node('stmt', init, [{ to: after }]);
      }
      case 'labeled_statement': {
        const target = label(field('label')?.text ?? '');
        // The label's statement, after any comment between them.
        target.succ.push({ to: sequence(stmt.namedChildren.slice(1), next, jumps) });
        return target;
      }
      case 'goto_statement':
        return node('stmt', undefined, [{ to: label(field('label')?.text ?? '') }]);
      case 'return_statement':
        return node('return', stmt, [{ to: exit }]);
      case 'break_statement':
        return node('stmt', undefined, [{ to: jumps.breakTo ?? next }]);
      case 'continue_statement':
        return node('stmt', undefined, [{ to: jumps.continueTo ?? next, skip: true }]);
      case 'switch_statement': {
        const after = node('join', undefined, [{ to: next }]);
        const cases = field('body')?.namedChildren.filter((c) => c?.type === 'case_statement') ?? [];
        const inner = { ...jumps, breakTo: after };
        // Each case falls through into the next; the head jumps to any of them (or past all of them).
        const entries: CfgNode<Node>[] = [];
        for (const c of [...cases].reverse()) {
          const value = c?.childForFieldName('value')?.id;
          const body = c?.namedChildren.filter((s) => s !== null && s.id !== value) ?? [];
          entries.unshift(sequence(body, entries[0] ?? after, inner));
        }
        const hasDefault = cases.some((c) => c?.childForFieldName('value') === null);
        return node('branch', field('condition'), [
          ...entries.map((to) => ({ to })),
          ...(hasDefault ? [] : [{ to: after }]),
        ]);
      }
      default:
        return node('stmt', stmt, [{ to: next }]);
    }
  };

  return finish((fallOff) => build(fn.childForFieldName('body'), fallOff, {}));
}

/** The calls a CFG node makes itself (not those of nested statements, which are nodes of their own). */
export function nodeCalls(node: CfgNode<Node>): Node[] {
  const ast = node.ast;
  if (ast === undefined) return [];
  const own = ast.type === 'call_expression' ? [ast] : [];
  return [...own, ...ast.descendantsOfType('call_expression').filter((n): n is Node => n !== null)];
}
