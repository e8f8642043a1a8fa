// The patch's C as tree-sitter-c is given it: kernel constructs the grammar does not know rewritten
// into C it does, every line break where it was, so a node's row is its line in the patch and rules
// locate by row. Only tree-sitter reads this text: reports quote the input's own lines, and the
// dynamic check compiles the input's own C (src/dynamic/harness.ts reads SourceFile.code).

/**
 * Sparse's and the compiler's annotations that change no code (include/linux/compiler_types.h:
 * `__user`, `__iomem`, `__rcu`, `__force`, `__must_check`, `__init`…), blanked to spaces of their
 * length so `(void __user *)p` parses as a cast.
 */
const ANNOTATIONS =
  /\b(?:__user|__iomem|__rcu|__percpu|__force|__must_check|__always_inline|__maybe_unused|__init|__exit|__read_mostly|__ro_after_init|noinline)\b/g;

/**
 * Attributes with arguments, blanked with their arguments in a function's body (a struct keeps its
 * own, which change its layout): `__free(kfree)` (include/linux/cleanup.h, the variable is freed
 * when it goes out of scope) and `__aligned(8)` (include/linux/compiler_attributes.h).
 */
const ATTRIBUTES = /\b(?:__free|__aligned)\s*\(/g;

/**
 * Statement macros that iterate, found by shape: a name holding `for_each` or `foreach` called where
 * a statement starts inside a function and followed by the statement it repeats. They become a `for`
 * whose iterators step on every pass and whose condition names what they walk. (Every called name is
 * matched and then tested: a pattern with the words inside backtracks quadratically on a long name.)
 */
const CALLED_NAME = /\b\w+(?=\s*\()/g;
const ITERATOR_NAME = /for_each|foreach/;

/** include/linux/cleanup.h `scoped_guard(type, args…) stmt`: stmt runs once with the lock held. */
const SCOPED_GUARD = /\bscoped_guard(?=\s*\()/g;

/**
 * `container_of(p, struct x, m)`, `list_entry(p, struct x, m)`… (include/linux/container_of.h,
 * list.h) take a type as an argument: its keyword is blanked so the argument parses as a name.
 */
const TYPE_ARGUMENT = /([(,])(\s*)(struct|union|enum)(?=\s+\w+\s*[,)])/g;
/** The rest of a parenthesized type alone, `(struct x)`: a cast or an operand, not an argument. */
const LONE_TYPE = /\s+\w+\s*\)/y;
/** Operators that take a type where a call takes an expression. */
const TYPE_OPERATORS = new Set([
  'sizeof',
  'typeof',
  '__typeof__',
  '_Alignof',
  'alignof',
  '__alignof__',
  'offsetof',
]);

interface Edit {
  readonly from: number;
  readonly to: number;
  readonly text: string;
}

/** The C tree-sitter-c is given for `code`: same lines, kernel constructs rewritten (see above). */
export function forTreeSitter(code: string): string {
  const plain = codeOnly(code);
  const inFunction = functionBodies(plain);
  const closing = bracketPairs(plain);
  // Blanking keeps every offset, so the rewrites below find their spans in `plain` and take their
  // text from `blanked`.
  const blanked = applyEdits(code, blanks(code, plain, inFunction, closing));
  const edits: Edit[] = [];
  for (const m of plain.matchAll(CALLED_NAME)) {
    if (!ITERATOR_NAME.test(m[0])) continue;
    const macro = statementMacro(plain, inFunction, closing, m.index, m[0]);
    const header = macro === undefined ? undefined : loopHeader(m[0], macro.args, blanked, macro.newlines);
    if (macro !== undefined && header !== undefined)
      edits.push({ from: m.index, to: macro.close + 1, text: header });
  }
  for (const m of plain.matchAll(SCOPED_GUARD)) {
    const macro = statementMacro(plain, inFunction, closing, m.index, m[0]);
    if (macro !== undefined) edits.push(...guardedBlock(plain, closing, m.index, macro.close));
  }
  return applyEdits(blanked, edits);
}

/** Annotations, attributes and type keywords of arguments, as spaces (line breaks kept). */
function blanks(code: string, plain: string, inFunction: readonly boolean[], closing: Closing): Edit[] {
  const edits: Edit[] = [];
  const blank = (from: number, to: number) =>
    edits.push({ from, to, text: code.slice(from, to).replace(/[^\n]/g, ' ') });
  for (const m of plain.matchAll(ANNOTATIONS)) blank(m.index, m.index + m[0].length);
  for (const m of plain.matchAll(ATTRIBUTES)) {
    const close = closing(m.index + m[0].length - 1);
    if (close !== undefined && inFunction[m.index] === true) blank(m.index, close + 1);
  }
  for (const m of plain.matchAll(TYPE_ARGUMENT)) {
    const [, delimiter = '', space = '', keyword = ''] = m;
    const from = m.index + delimiter.length + space.length;
    const callee = tokenBefore(plain, m.index);
    // After `(`, only a call's first argument: not `sizeof(struct x)`, not a cast `(struct x)`.
    const argument =
      delimiter === ','
        ? true
        : /^\w+$/.test(callee) &&
          !TYPE_OPERATORS.has(callee) &&
          !matchesAt(plain, from + keyword.length, LONE_TYPE);
    if (argument && inFunction[m.index] === true) blank(from, from + keyword.length);
  }
  return edits;
}

/** `code` with comments, string and character literals and preprocessor lines blanked (lines kept). */
function codeOnly(code: string): string {
  const out = code.split('');
  let lineStart = true;
  for (let i = 0; i < code.length; ) {
    const ch = code[i] ?? '';
    if (ch === ' ' || ch === '\t' || ch === '\n') {
      lineStart = ch === '\n' || lineStart;
      i++;
      continue;
    }
    const end = lineStart && ch === '#' ? directiveEnd(code, i) : literalEnd(code, i);
    for (let j = i; j < end; j++) if (out[j] !== '\n') out[j] = ' ';
    lineStart = false;
    i = Math.max(end, i + 1);
  }
  return out.join('');
}

/** The end of a preprocessor directive at `i`: its last backslash-continued line's end. */
function directiveEnd(code: string, i: number): number {
  let end = code.indexOf('\n', i);
  while (end > 0 && code[end - 1] === '\\') end = code.indexOf('\n', end + 1);
  return end < 0 ? code.length : end;
}

/** The end of a comment or a string or character literal at `i`; `i` when there is none. */
function literalEnd(code: string, i: number): number {
  const ch = code[i];
  if (ch === '/' && code[i + 1] === '*') {
    const end = code.indexOf('*/', i + 2);
    return end < 0 ? code.length : end + 2;
  }
  if (ch === '/' && code[i + 1] === '/') {
    const end = code.indexOf('\n', i);
    return end < 0 ? code.length : end;
  }
  if (ch !== '"' && ch !== "'") return i;
  let j = i + 1;
  while (j < code.length && code[j] !== ch && code[j] !== '\n') j += code[j] === '\\' ? 2 : 1;
  return Math.min(j + 1, code.length);
}

/**
 * Whether each offset of code-only text is inside a function's body: under a top-level `{` that
 * follows a `)` (a function head), not a struct's, union's, enum's or initializer's braces.
 */
function functionBodies(plain: string): boolean[] {
  const inside: boolean[] = [];
  let depth = 0;
  let body = false;
  for (let i = 0; i < plain.length; i++) {
    const ch = plain[i];
    if (ch === '{' && depth++ === 0) body = tokenBefore(plain, i) === ')';
    inside.push(body && depth > 0);
    if (ch === '}' && depth > 0 && --depth === 0) body = false;
  }
  return inside;
}

/** The token of code-only text that ends right before `at`, past white space: a word, or one character. */
function tokenBefore(plain: string, at: number): string {
  let end = at;
  while (end > 0 && /\s/.test(plain[end - 1] ?? '')) end--;
  let start = end;
  while (start > 0 && /\w/.test(plain[start - 1] ?? '')) start--;
  return plain.slice(start === end ? Math.max(0, end - 1) : start, end);
}

/** The offset of the bracket closing the `(` or `{` at `open`, if the text closes it. */
type Closing = (open: number) => number | undefined;

/**
 * Every `(`…`)` and `{`…`}` pair of code-only text, found in one pass (parentheses and braces
 * counted apart, as unbalanced input leaves them): looking each up by a scan from its opening
 * bracket would be quadratic on input nesting deep or leaving many open.
 */
function bracketPairs(plain: string): Closing {
  const pairs = new Map<number, number>();
  const open: Record<string, number[]> = { '(': [], '{': [] };
  const opener: Record<string, string> = { ')': '(', '}': '{' };
  for (let i = 0; i < plain.length; i++) {
    const ch = plain[i] ?? '';
    if (ch === '(' || ch === '{') open[ch]?.push(i);
    else if (ch === ')' || ch === '}') {
      const from = open[opener[ch] ?? '']?.pop();
      if (from !== undefined) pairs.set(from, i);
    }
  }
  return (at) => pairs.get(at);
}

/** Whether the sticky pattern `sticky` matches code-only text at `at`. */
function matchesAt(plain: string, at: number, sticky: RegExp): boolean {
  sticky.lastIndex = at;
  return sticky.test(plain);
}

/** Splits an argument list's code-only text (between its parentheses) at its top-level commas. */
function splitArguments(plain: string, open: number, close: number): { from: number; to: number }[] {
  const args: { from: number; to: number }[] = [];
  let depth = 0;
  let from = open + 1;
  for (let i = open + 1; i < close; i++) {
    const ch = plain[i];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      args.push({ from, to: i });
      from = i + 1;
    }
  }
  return [...args, { from, to: close }];
}

/**
 * What starts a statement a macro is followed by: a block, a name, `++i`; `(…` or `*p` only on a
 * later line (on the same one, `f_for_each(x)(y)` calls what it returns, `g_for_each(x) * y` multiplies).
 */
const STATEMENT_FOLLOWS = /\s*(?:[{\w]|\+\+|--)|[ \t]*\n\s*[(*]/y;
/** Tokens a statement of a block follows: the end of one, a block's start, a label. */
const BLOCK_STATEMENT_AFTER = new Set([';', '{', '}', ':']);
/** …and those a statement that is an if's, else's or loop's body follows. */
const STATEMENT_STARTS_AFTER = new Set([...BLOCK_STATEMENT_AFTER, ')', 'else', 'do']);

/**
 * A macro `name(…)` at `at` used as a statement: inside a function, where a statement starts (after
 * `;`, `{`, `}`, a label's `:`, a condition's `)`, `else` or `do`), and followed by a statement
 * rather than `;` or an operator. Its argument spans and the line breaks inside it.
 */
function statementMacro(
  plain: string,
  inFunction: readonly boolean[],
  closing: Closing,
  at: number,
  name: string,
) {
  if (inFunction[at] !== true) return undefined;
  if (!STATEMENT_STARTS_AFTER.has(tokenBefore(plain, at))) return undefined;
  const open = plain.indexOf('(', at + name.length);
  const close = closing(open);
  if (close === undefined) return undefined;
  if (!matchesAt(plain, close + 1, STATEMENT_FOLLOWS)) return undefined;
  const newlines = plain.slice(at, close).split('\n').length - 1;
  return { close, newlines, args: splitArguments(plain, open, close) };
}

/**
 * What an iterating macro's arguments are: the iterators it assigns on each pass, and what it walks.
 * include/linux/list.h: `list_for_each(pos, head)`, `list_for_each_safe(pos, n, head)`,
 * `list_for_each_entry(pos, head, member)`, `…_entry_safe(pos, n, head, member)` (hlist_ alike),
 * and include/linux/rculist.h's `list_for_each_entry_rcu(pos, head, member, cond...)` and
 * `…_srcu(pos, head, member, cond)`: the head follows the iterators, one or two (`_safe`);
 * `hlist_for_each_entry_continue(pos, member)` and `…_from` walk on from `pos`. include/linux/xarray.h:
 * `xa_for_each(xa, index, entry)` (`_start`, `_range`, `_marked` add bounds). include/linux/kvm_host.h:
 * `kvm_for_each_vcpu(idx, vcpup, kvm)`, `kvm_for_each_memslot(memslot, bkt, slots)`. Any other, as
 * cpumask.h `for_each_possible_cpu(cpu)` and find.h `for_each_set_bit(bit, addr, size)`: the first
 * argument steps, the others say what it walks.
 */
function roles(name: string, count: number): { iterators: number[]; over: number[] } {
  const range = (from: number, to: number) =>
    Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
  if (/^hlist_for_each_entry_(?:continue|from)/.test(name)) return { iterators: [0], over: [] };
  if (/^h?list_for_each/.test(name)) {
    const head = /_safe/.test(name) ? 2 : 1;
    return { iterators: range(0, head), over: head < count ? [head] : [] };
  }
  if (/^xa_for_each/.test(name)) return { iterators: [1, 2], over: [0] };
  if (/^kvm_for_each_(?:vcpu|memslot)$/.test(name)) return { iterators: [0, 1], over: [2] };
  return { iterators: [0], over: range(1, count) };
}

/**
 * `for (;it != walked; it++, other = it)`: the first iterator counts the passes, the others are
 * assigned from it, so each changes on every pass; the condition names what the loop walks. Each
 * argument is the input's text on one line (its line breaks go before the `)`); undefined when an
 * argument holds a comment or a preprocessor line, which a line could not keep.
 */
function loopHeader(
  name: string,
  args: readonly { from: number; to: number }[],
  code: string,
  newlines: number,
): string | undefined {
  const raw = args.map((a) => code.slice(a.from, a.to));
  // A comment, or a preprocessor line (`#ifdef` choosing an argument), cannot be kept on one line.
  if (raw.some((t) => t.includes('/*') || t.includes('//') || /^\s*#/m.test(t))) return undefined;
  const texts = raw.map((t) => t.replace(/\s+/g, ' ').trim());
  const { iterators, over } = roles(name, texts.length);
  const [first, ...others] = iterators
    .map((i) => texts[i])
    .filter((t): t is string => t !== undefined && t !== '');
  if (first === undefined) return undefined;
  const walked = over.map((i) => texts[i]).filter((t) => t !== undefined && t !== '');
  const condition =
    walked.length === 0 ? first : `${first} != ${walked.length === 1 ? walked[0] : `(${walked.join(', ')})`}`;
  const update = [`${first}++`, ...others.map((o) => `${o} = ${first}`)].join(', ');
  return `for (;${condition}; ${update}${'\n'.repeat(newlines)})`;
}

/**
 * `scoped_guard(…) stmt` as the call followed by its statement, which runs once: a `;` after the
 * call, and braces around both where the statement is the body of an if, else or loop (and is a
 * block whose end is known).
 */
function guardedBlock(plain: string, closing: Closing, at: number, close: number): Edit[] {
  const call = { from: close + 1, to: close + 1, text: ';' };
  if (BLOCK_STATEMENT_AFTER.has(tokenBefore(plain, at))) return [call];
  let body = close + 1;
  while (/\s/.test(plain[body] ?? '')) body++;
  const end = plain[body] === '{' ? closing(body) : undefined;
  return end === undefined
    ? []
    : [{ from: at, to: at, text: '{' }, call, { from: end + 1, to: end + 1, text: '}' }];
}

/** `code` with non-overlapping edits applied (an edit inside another's span is dropped). */
function applyEdits(code: string, edits: readonly Edit[]): string {
  let out = '';
  let at = 0;
  for (const e of [...edits].sort((a, b) => a.from - b.from || a.to - b.to)) {
    if (e.from < at) continue;
    out += code.slice(at, e.from) + e.text;
    at = e.to;
  }
  return out + code.slice(at);
}
