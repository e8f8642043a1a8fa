import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseC } from './cModel.js';
import { MAX_SYNTAX_DEPTH, rowTooDeep } from './depth.js';

/** A function whose line 3 nests `levels` of the given construct. */
const nested = (levels: number, open: string, inner: string, close: string) =>
  `int f(int x)\n{\n\tx = ${open.repeat(levels)}${inner}${close.repeat(levels)};\n\treturn x;\n}\n`;

describe('rowTooDeep', () => {
  it('passes C nested as deep as C11 §5.2.4.1 asks compilers to take (127 blocks, 63 parentheses) and a 300-branch else-if chain', async () => {
    const blocks = `int f(int x)\n{\n${'{'.repeat(127)}x++;${'}'.repeat(127)}\n\treturn x;\n}\n`;
    // A long else-if chain nests too (tree-sitter-c: each else holds the next if).
    const chain = `int f(int x)\n{\n\tif (x == 0)\n\t\tx++;\n${Array.from({ length: 300 }, (_, i) => `\telse if (x == ${i + 1})\n\t\tx--;\n`).join('')}\treturn x;\n}\n`;
    for (const code of [blocks, chain, nested(63, '(', 'x', ')')]) {
      const tree = await parseC(code);
      expect(tree?.rootNode.hasError).toBe(false);
      expect(rowTooDeep(tree as NonNullable<typeof tree>)).toBeUndefined();
    }
  });

  it('finds the row where a tree first goes deeper than the limit, whatever nests there', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(['(', 'x', ')'], ['-(', 'x', ')'], ['f(', 'x', ')'], ['x + (', 'x', ')']),
        fc.integer({ min: 1, max: 1200 }),
        async ([open, inner, close], levels) => {
          const tree = await parseC(nested(levels, open as string, inner as string, close as string));
          if (tree === null) throw new Error('tree-sitter gave up');
          const row = rowTooDeep(tree);
          // Each level adds at least one tree level; the line is the third (row 2).
          if (row !== undefined) expect(row).toBe(2);
          if (levels > MAX_SYNTAX_DEPTH) expect(row).toBe(2);
          if (levels < 60) expect(row).toBeUndefined();
        },
      ),
      { seed: 20261130, numRuns: 60 },
    );
  });

  it('walks a tree far deeper than the stack allows recursion', async () => {
    const tree = await parseC(nested(20_000, '(', 'x', ')'));
    expect(rowTooDeep(tree as NonNullable<typeof tree>)).toBe(2);
  });
});
