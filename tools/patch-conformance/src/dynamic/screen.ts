// What the harness refuses to compile: anything in a patch's C that would make the compiler read a
// file, or run the patch's code before the sandbox is entered (shim/sandbox.h). Patches are
// untrusted input: `#include "/etc/hostname"` would otherwise put that file into the report.

/** Why a line of the patch's C keeps the harness from compiling it. */
export interface Refusal {
  /** 0-based line in the C given to screenC. */
  readonly line: number;
  readonly reason: string;
}

export interface Screened {
  /** The C to compile: the same lines, kernel-header includes blanked (the shim provides them). */
  readonly code: string;
  readonly refusals: readonly Refusal[];
}

/** Directives that only select or define text: none reads a file or talks to the compiler. */
const TEXT_DIRECTIVES = new Set([
  'define',
  'undef',
  'if',
  'ifdef',
  'ifndef',
  'elif',
  'elifdef',
  'elifndef',
  'else',
  'endif',
  'error',
  'warning',
  'line',
]);

/**
 * Identifiers that read files at build time (`__has_include`, `asm(".incbin …")`), run pragmas
 * from macro expansions (`_Pragma`), or run code before main (constructor, ifunc resolver and
 * init-array sections: GCC manual, "Common Function Attributes").
 */
const FORBIDDEN_IDENTIFIERS = new Map([
  ['asm', 'inline assembly'],
  ['__asm', 'inline assembly'],
  ['__asm__', 'inline assembly'],
  ['_Pragma', 'a _Pragma operator'],
  ['__has_include', '__has_include (it probes files)'],
  ['__has_include_next', '__has_include_next (it probes files)'],
  ['__has_embed', '__has_embed (it probes files)'],
  ['constructor', 'a constructor attribute (code before the sandbox)'],
  ['__constructor__', 'a constructor attribute (code before the sandbox)'],
  ['destructor', 'a destructor attribute'],
  ['__destructor__', 'a destructor attribute'],
  ['ifunc', 'an ifunc attribute (a resolver runs at load time)'],
  ['__ifunc__', 'an ifunc attribute (a resolver runs at load time)'],
  ['section', 'a section attribute'],
  ['__section__', 'a section attribute'],
  ['init_priority', 'an init_priority attribute'],
]);

/** A kernel header: a relative path of plain names ending in .h (linux/kvm_host.h, "svm.h"). */
const KERNEL_HEADER = /^[A-Za-z0-9_][A-Za-z0-9_+-]*(\/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*\.h$/;

/**
 * Screens C for the harness. Works on the text as the preprocessor sees it: line splices joined,
 * comments and literals skipped, `%:` read as `#`.
 */
export function screenC(code: string): Screened {
  const refusals: Refusal[] = [];
  const lines = code.split('\n');
  const blanked = new Set<number>();
  const refuse = (line: number, reason: string) => refusals.push({ line, reason });
  let line = 0;
  let atLineStart = true;
  let i = 0;
  const peek = (k = 0) => code[i + k] ?? '';
  const splice = () => {
    // A backslash-newline joins two lines (translation phase 2); count the physical line.
    while (peek() === '\\' && (peek(1) === '\n' || (peek(1) === '\r' && peek(2) === '\n'))) {
      i += peek(1) === '\n' ? 2 : 3;
      line++;
    }
  };
  const skipSpace = () => {
    for (;;) {
      splice();
      if (peek() === ' ' || peek() === '\t' || peek() === '\r' || peek() === '\f' || peek() === '\v') i++;
      else if (peek() === '/' && peek(1) === '*') skipBlockComment();
      else return;
    }
  };
  const skipBlockComment = () => {
    i += 2;
    while (i < code.length && !(peek() === '*' && peek(1) === '/')) {
      if (peek() === '\n') line++;
      i++;
    }
    i += 2;
  };
  const identifier = () => {
    let name = '';
    for (;;) {
      splice();
      if (!/[A-Za-z0-9_$]/.test(peek())) return name;
      name += peek();
      i++;
    }
  };
  while (i < code.length) {
    splice();
    const ch = peek();
    if (ch === '\n') {
      line++;
      i++;
      atLineStart = true;
    } else if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v') i++;
    else if (ch === '/' && peek(1) === '/') {
      while (i < code.length && peek() !== '\n') {
        i++;
        splice();
      }
    } else if (ch === '/' && peek(1) === '*') skipBlockComment();
    else if (ch === '"' || ch === "'") {
      i++;
      for (;;) {
        splice();
        if (i >= code.length || peek() === ch || peek() === '\n') break;
        i += peek() === '\\' ? 2 : 1;
      }
      i++;
      atLineStart = false;
    } else if (atLineStart && (ch === '#' || (ch === '%' && peek(1) === ':'))) {
      const at = line;
      i += ch === '#' ? 1 : 2;
      skipSpace();
      const directive = identifier();
      atLineStart = false;
      if (directive === '' || TEXT_DIRECTIVES.has(directive)) continue;
      if (directive !== 'include') {
        refuse(at, `#${directive}: only #define, #undef and conditionals are compiled`);
        continue;
      }
      skipSpace();
      const close = peek() === '<' ? '>' : peek() === '"' ? '"' : '';
      const end = close === '' ? -1 : code.indexOf(close, i + 1);
      const path = end < 0 ? '' : code.slice(i + 1, end);
      if (end < 0 || path.includes('\n') || !KERNEL_HEADER.test(path) || path.split('/').includes('..'))
        refuse(
          at,
          `#include ${close === '' ? 'of a macro' : `of ${JSON.stringify(path)}`}: only kernel headers, which the shim provides, may be included`,
        );
      else if (line !== at || !/^[ \t]*$/.test(code.slice(end + 1, lineEnd(code, end))))
        // The whole line is blanked, so it must hold the include and nothing else: text after the
        // header name (a comment opened there, a line splice) would change what the next line is.
        refuse(at, `#include of ${JSON.stringify(path)}: nothing may follow the header name on its line`);
      else blanked.add(at);
    } else if (ch === '#' && peek(1) === '#') {
      refuse(line, '## token pasting (it can spell any identifier, including the refused ones)');
      i += 2;
    } else if (/[A-Za-z_$]/.test(ch)) {
      const at = line;
      const name = identifier();
      const reason = FORBIDDEN_IDENTIFIERS.get(name);
      if (reason !== undefined) refuse(at, `${reason}: "${name}"`);
      atLineStart = false;
    } else {
      i++;
      atLineStart = false;
    }
  }
  return {
    code: lines.map((text, n) => (blanked.has(n) ? '' : text)).join('\n'),
    refusals,
  };
}

function lineEnd(code: string, from: number): number {
  const end = code.indexOf('\n', from);
  return end < 0 ? code.length : end;
}
