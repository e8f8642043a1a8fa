import { describe, expect, it } from 'vitest';
import type { Node } from 'web-tree-sitter';
import { type CfgNode, mustFacts } from '../rules/flow.js';
import { buildCfg, nodeCalls } from './cfg.js';
import { parseC } from './cModel.js';

/** The facts (called function names) that hold at each return of `code`'s function, in source order. */
async function atReturns(code: string): Promise<string[][]> {
  const fn = (await parseC(code))?.rootNode.descendantsOfType('function_definition')[0];
  if (fn === null || fn === undefined) throw new Error('no function');
  const cfg = buildCfg(fn);
  const gen = (n: CfgNode<Node>) =>
    nodeCalls(n).map((call) => call.childForFieldName('function')?.text ?? '');
  const facts = mustFacts(cfg, cfg.entry, gen);
  return cfg.nodes
    .filter((n) => n.kind === 'return' && facts.has(n))
    .sort((a, b) => (a.ast?.startIndex ?? Infinity) - (b.ast?.startIndex ?? Infinity))
    .map((n) => [...(facts.get(n) ?? [])].sort());
}

describe('the control-flow graph and what holds on every path', () => {
  it.each([
    [
      'if/else: only what both branches do',
      'int f(void) { if (c()) x(); else { x(); y(); } return 0; }',
      [['c', 'x']],
    ],
    [
      'an early return sees only what came before it',
      'int f(void) { x(); if (c()) return 1; y(); return 0; }',
      [
        ['c', 'x'],
        ['c', 'x', 'y'],
      ],
    ],
    [
      'goto joins the label with the fall-through path',
      'int f(void) { if (c()) goto out; x(); out: y(); return 0; }',
      [['c', 'y']],
    ],
    [
      'a loop counts per iteration: continue skips, the rest of the body still holds',
      'int f(void) { for (i = 0; i < n; i++) { if (c()) continue; x(); } return 0; }',
      [['c', 'x']],
    ],
    [
      'a break leaves the loop with what held before it',
      'int f(void) { while (w()) { if (c()) break; x(); } return 0; }',
      [['c', 'w']],
    ],
    [
      'switch: each case, falling through, and past all of them without a default',
      'int f(void) { switch (s()) { case 1: x(); case 2: y(); break; } return 0; }',
      [['s']],
    ],
    ['a void function that falls off its end has a return too', 'void f(void) { x(); }', [['x']]],
    [
      'a comment between else and its block does not hide the block',
      'int f(void) { if (c()) { x(); y(); } else /* why */ { x(); y(); } return 0; }',
      [['c', 'x', 'y']],
    ],
  ])('%s', async (_, code, expected) => {
    expect(await atReturns(code)).toEqual(expected);
  });
});
