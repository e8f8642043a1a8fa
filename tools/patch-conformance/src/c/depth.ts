// How deep the C snp-conform analyses may nest. The rules and the control-flow graph walk syntax
// trees recursively, so a hostile patch nesting thousands of levels (`((((…))))`, `{{{{…}}}}`, a
// sum of thousands of terms) would overflow the stack (3,000 nested blocks did). C11 §5.2.4.1 asks
// a compiler for at least 127 nested blocks and 63 nested parentheses; tree-sitter-c spends one or
// two tree levels on each, and the kernel's SEV code (arch/x86/kvm/svm/sev.c) stays under 40.
import type { Tree } from 'web-tree-sitter';

/**
 * The deepest syntax tree snp-conform analyses: several times C11's minimums, a third of what
 * overflowed (each shape — blocks, ifs, loops, else-if chains, sums, parentheses, calls — was run
 * just under it through the binary).
 */
export const MAX_SYNTAX_DEPTH = 1024;

/**
 * The row of the first node deeper than `limit` levels below the root, or undefined when none is.
 * A cursor walk: it must not recurse itself.
 */
export function rowTooDeep(tree: Tree, limit = MAX_SYNTAX_DEPTH): number | undefined {
  const cursor = tree.walk();
  try {
    let depth = 0;
    for (;;) {
      if (depth > limit) return cursor.startPosition.row;
      if (cursor.gotoFirstChild()) {
        depth++;
        continue;
      }
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return undefined;
        depth--;
      }
    }
  } finally {
    cursor.delete();
  }
}
