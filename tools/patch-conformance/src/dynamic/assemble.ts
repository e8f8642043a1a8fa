// The patch's C in an order the compiler accepts, whatever order its hunks came in (git
// format-patch emits files alphabetically, so a struct may be used before its definition): the
// preprocessor lines, then the type definitions (a struct before the structs holding it by value),
// then a prototype of every function, then the other declarations, then the function bodies.
// `#line` directives keep every chunk at its original line, so compiler errors still point into
// the patch. C with top-level conditional compilation is left in patch order: moving chunks out of
// an #if would change what it selects.

/** A top-level piece of the C: its text, the 0-based line where it starts, and what it is. */
interface Chunk {
  readonly text: string;
  readonly line: number;
  readonly kind: 'preproc' | 'type' | 'function' | 'other';
}

const CONDITIONAL = /^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b/m;

/** The C reordered for the compiler, with `#line` directives naming `file`. */
export function assemble(code: string, file: string): string {
  if (CONDITIONAL.test(code)) return code;
  const chunks = splitTopLevel(code);
  const at = (c: Chunk) => `#line ${c.line + 1} "${file}"\n${c.text}`;
  const functions = chunks.filter((c) => c.kind === 'function');
  return [
    ...chunks.filter((c) => c.kind === 'preproc').map(at),
    ...typesInOrder(chunks.filter((c) => c.kind === 'type')).map(at),
    ...functions.map((c) => at({ ...c, text: prototype(c.text) })),
    ...chunks.filter((c) => c.kind === 'other').map(at),
    ...functions.map(at),
  ].join('\n');
}

/** Splits C into top-level chunks: preprocessor lines, and declarations or definitions with the comments before them. */
function splitTopLevel(code: string): Chunk[] {
  const chunks: Chunk[] = [];
  let start = 0;
  let depth = 0;
  let functionBody = false;
  const lineOf = (i: number) => code.slice(0, i).split('\n').length - 1;
  const push = (end: number, kind?: Chunk['kind']) => {
    const text = code.slice(start, end);
    const bare = stripComments(text).trim();
    if (bare !== '') chunks.push({ text, line: lineOf(start), kind: kind ?? classify(bare) });
    start = end;
  };
  for (let i = 0; i < code.length; i++) {
    const ch = code[i];
    if (ch === '/' && code[i + 1] === '*')
      i = code.indexOf('*/', i + 2) < 0 ? code.length : code.indexOf('*/', i + 2) + 1;
    else if (ch === '/' && code[i + 1] === '/') i = lineEnd(code, i) - 1;
    else if (ch === '"' || ch === "'") i = literalEnd(code, i);
    else if (ch === '#' && depth === 0 && /^[ \t]*$/.test(code.slice(code.lastIndexOf('\n', i - 1) + 1, i))) {
      push(code.lastIndexOf('\n', i - 1) + 1);
      i = directiveEnd(code, i);
      push(i, 'preproc');
    } else if (ch === '{') {
      if (depth === 0) functionBody = /\)\s*$/.test(stripComments(code.slice(start, i)));
      depth++;
    } else if (ch === '}') {
      depth--;
      if (depth === 0 && functionBody) push(i + 1, 'function');
    } else if (ch === ';' && depth === 0) push(i + 1);
  }
  push(code.length);
  return chunks;
}

function classify(bare: string): Chunk['kind'] {
  return /^(typedef\b|(struct|union|enum)\s+\w+\s*\{)/.test(bare) ? 'type' : 'other';
}

/** The definition's head as a declaration: everything before its body, then `;`. */
function prototype(definition: string): string {
  const code = stripComments(definition);
  return `${code.slice(0, code.indexOf('{')).trim()};`;
}

/** Types ordered so that a struct, union or enum comes before any type that holds it by value. */
function typesInOrder(types: readonly Chunk[]): Chunk[] {
  const named = (c: Chunk) =>
    /^(?:typedef\s+)?((?:struct|union|enum)\s+\w+)/.exec(stripComments(c.text).trim())?.[1];
  const names = new Map(types.map((c) => [named(c), c]));
  const done = new Set<Chunk>();
  const ordered: Chunk[] = [];
  const visit = (c: Chunk) => {
    if (done.has(c)) return;
    done.add(c);
    const body = stripComments(c.text);
    for (const [, kind, name] of body.matchAll(/\b(struct|union|enum)\s+(\w+)\b(?!\s*\*)/g)) {
      const needed = names.get(`${kind} ${name}`);
      if (needed !== undefined) visit(needed);
    }
    ordered.push(c);
  };
  for (const c of types) visit(c);
  return ordered;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, ' ');
}

function lineEnd(code: string, i: number): number {
  const end = code.indexOf('\n', i);
  return end < 0 ? code.length : end;
}

/** The index of the quote closing the literal opened at i. */
function literalEnd(code: string, i: number): number {
  let j = i + 1;
  while (j < code.length && code[j] !== code[i] && code[j] !== '\n') j += code[j] === '\\' ? 2 : 1;
  return j;
}

/** The end of the directive at i: its line, and the lines it continues onto with a backslash. */
function directiveEnd(code: string, i: number): number {
  let end = lineEnd(code, i);
  while (code[end - 1] === '\\' && end < code.length) end = lineEnd(code, end + 1);
  return end;
}
