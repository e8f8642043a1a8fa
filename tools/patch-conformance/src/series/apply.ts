// Applies a series hunk by hunk, as `patch` or `git apply` would, to a tree it only partly sees: each
// file is the lines the series showed (hunk context, removed and added lines) between base lines it
// never showed. Pure, and safe on any diff: a hunk that is malformed or does not fit is a failure.
import type { PatchRef } from '../input.js';
import { inputLine, type PatchMessage } from './mail.js';

/**
 * A line of a file whose text the series showed. A line the series added keeps the place where it
 * was added (`patch` the message that added it, `at` its `+` line) whatever later hunks show it as
 * context: that is the line a finding should name. A base line keeps where it was first seen, so
 * `at` is always a line of `patch`.
 */
export interface KnownLine {
  readonly text: string;
  /** Where this line is in the input (the message's source, the 1-based input line). */
  readonly at: { readonly file: string; readonly line: number };
  readonly patch: PatchRef;
  /** Some message of the series added it (false: base-kernel context only). */
  readonly added: boolean;
}

export interface TreeFile {
  readonly path: string;
  /** Index = line number - 1 in the final file; undefined = a base line never seen. */
  readonly lines: readonly (KnownLine | undefined)[];
}

export interface HunkFailure {
  readonly patch: PatchRef;
  readonly at: { readonly file: string; readonly line: number };
  readonly path: string;
  /** The `@@ … @@` header (or the `diff --git` line of a change without hunks). */
  readonly hunk: string;
  /** Why the hunk does not apply, e.g. "line 42 is `…` in the tree (from x.mbox:17), the hunk expects `…`". */
  readonly why: string;
}

export interface AppliedSeries {
  readonly files: ReadonlyMap<string, TreeFile>;
  readonly failures: readonly HunkFailure[];
  /** Paths the series deleted or renamed away, in the order it did. */
  readonly deleted: readonly string[];
}

export const APPLY_LIMITS = {
  /** Highest line number followed in a file (the kernel's largest files have some 100,000 lines). */
  linesPerFile: 1_000_000,
  /** Line slots held across all files (8 bytes each). */
  lines: 8_000_000,
  /** Line comparisons of offset searches in one applySeries call (about a second of work). */
  comparisons: 100_000_000,
  /** Lines moved by splices in one applySeries call (native moves: about a second too). */
  moves: 2_000_000_000,
} as const;

/** The contiguous runs of known lines of a file (what can be parsed), each with its lines' origins. */
export function knownRuns(
  file: TreeFile,
): { readonly startLine: number; readonly lines: readonly KnownLine[] }[] {
  const runs: { startLine: number; lines: KnownLine[] }[] = [];
  let run: KnownLine[] | undefined;
  file.lines.forEach((line, i) => {
    if (line === undefined) run = undefined;
    else if (run !== undefined) run.push(line);
    else {
      run = [line];
      runs.push({ startLine: i + 1, lines: run });
    }
  });
  return runs;
}

// ---- Parsing a message's diff (strict: exact line counts, positions kept) ----

interface HunkLine {
  readonly kind: ' ' | '-' | '+';
  readonly text: string;
  /** Line of the message's text (0-based). */
  readonly index: number;
}

interface Hunk {
  readonly header: string;
  readonly index: number;
  readonly oldStart: number;
  readonly oldCount: number;
  readonly lines: readonly HunkLine[];
  /** Why the hunk cannot be read, if so. */
  readonly malformed?: string;
}

/** One file's part of a diff. `from`/`to` undefined: /dev/null (created/deleted). */
interface FileDiff {
  from: string | undefined;
  to: string | undefined;
  mode?: 'rename' | 'copy';
  /** Whether its ---/+++ lines were read. */
  named: boolean;
  readonly header: string;
  readonly index: number;
  readonly hunks: Hunk[];
}

/** `@@ -a[,b] +c[,d] @@` (an omitted count is 1: GNU diffutils' unified format). */
const HUNK = /^@@ -(\d{1,9})(?:,(\d{1,9}))? \+(\d{1,9})(?:,(\d{1,9}))? @@/;

/** A path of a ---/+++ line: its timestamp (after a tab, GNU diff) and a/ or b/ prefix (git) removed. */
function diffPath(raw: string, prefix: 'a/' | 'b/'): string | undefined {
  const path = raw.split('\t')[0] ?? '';
  if (path === '/dev/null') return undefined;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

/** `diff --git a/P b/P`: P, when both sides name the same path (a rename says its paths in its own lines). */
function gitPath(line: string): string | undefined {
  const rest = line.slice('diff --git '.length);
  const half = (rest.length - 5) / 2;
  const path = rest.slice(2, 2 + half);
  return rest === `a/${path} b/${path}` ? path : undefined;
}

function parseDiff(text: string): FileDiff[] {
  const lines = text.split('\n');
  const files: FileDiff[] = [];
  let file: FileDiff | undefined;
  const start = (line: string, i: number, path: string | undefined): FileDiff => {
    file = { from: path, to: path, named: false, header: line, index: i, hunks: [] };
    files.push(file);
    return file;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const next = lines[i + 1] ?? '';
    if (line.startsWith('diff --git ')) start(line, i, gitPath(line));
    else if (line.startsWith('--- ') && next.startsWith('+++ ')) {
      const f = file === undefined || file.named || file.hunks.length > 0 ? start(line, i, undefined) : file;
      Object.assign(f, {
        from: diffPath(line.slice(4), 'a/'),
        to: diffPath(next.slice(4), 'b/'),
        named: true,
      });
      i++;
    } else if (line.startsWith('@@ ') && file !== undefined) {
      const { hunk, next: after } = parseHunk(lines, i);
      file.hunks.push(hunk);
      i = after - 1;
    } else if (file !== undefined && file.hunks.length === 0) {
      // git's extended header lines (git-diff(1), "Generating patch text with -p").
      const moved = /^(rename|copy) (from|to) (.*)$/.exec(line);
      if (moved !== null) {
        file.mode = moved[1] as 'rename' | 'copy';
        file[moved[2] === 'from' ? 'from' : 'to'] = moved[3];
      }
      if (line.startsWith('new file mode ')) file.from = undefined;
      if (line.startsWith('deleted file mode ')) file.to = undefined;
    }
  }
  return files;
}

/** The hunk whose header is lines[start], and the line after it. */
function parseHunk(lines: readonly string[], start: number): { hunk: Hunk; next: number } {
  const line = lines[start] ?? '';
  const m = HUNK.exec(line);
  const header = m?.[0] ?? line.slice(0, 80);
  const body: HunkLine[] = [];
  const hunk = (next: number, malformed?: string) => ({
    hunk: {
      header,
      index: start,
      oldStart: Number(m?.[1]),
      oldCount: Number(m?.[2] ?? 1),
      lines: body,
      ...(malformed === undefined ? {} : { malformed }),
    },
    next,
  });
  if (m === null) return hunk(start + 1, 'its header is not `@@ -a,b +c,d @@`');
  let old = Number(m[2] ?? 1);
  let added = Number(m[4] ?? 1);
  let i = start + 1;
  for (; old > 0 || added > 0; i++) {
    const text = lines[i];
    if (text === undefined) return hunk(i, `the diff ends after ${body.length} of its lines`);
    // An empty line is an empty context line whose space a mailer stripped (git apply takes it too).
    const kind = text === '' ? ' ' : text[0];
    if (kind === '\\') continue; // "\ No newline at end of file": about the line before
    if (kind !== ' ' && kind !== '-' && kind !== '+')
      return hunk(
        i,
        `hunk line ${body.length + 1} (\`${shown(text)}\`) is not a context, removed or added line`,
      );
    if ((kind !== '+' && old === 0) || (kind !== '-' && added === 0))
      return hunk(i, 'it has more lines than its header counts');
    if (kind !== '+') old--;
    if (kind !== '-') added--;
    body.push({ kind, text: text.slice(1), index: i });
  }
  if (lines[i]?.startsWith('\\') === true) i++;
  // A line that would be a hunk's right after it: the header undercounts. "-- " is format-patch's signature.
  const after = lines[i] ?? '';
  if (/^[-+ ]/.test(after) && !/^(?:--- |\+\+\+ |-- $)/.test(after))
    return hunk(i, 'it has more lines than its header counts');
  return hunk(i);
}

// ---- Applying ----

interface Picture {
  readonly lines: (KnownLine | undefined)[];
  /** Created by the series: every line is known and the file ends where `lines` does. */
  readonly complete: boolean;
}

/** The mutable state of one applySeries call. */
interface Tree {
  readonly files: Map<string, Picture>;
  readonly deleted: Set<string>;
  readonly failures: HunkFailure[];
  slots: number;
  comparisons: number;
  moves: number;
}

export function applySeries(messages: readonly PatchMessage[]): AppliedSeries {
  const tree: Tree = {
    files: new Map(),
    deleted: new Set(),
    failures: [],
    slots: 0,
    comparisons: 0,
    moves: 0,
  };
  for (const message of messages) {
    // Per file, how far this message's earlier hunks moved the lines after them.
    const offsets = new Map<string, number>();
    for (const diff of parseDiff(message.text)) applyFile(tree, message, diff, offsets);
  }
  const files = new Map<string, TreeFile>();
  for (const [path, picture] of tree.files) files.set(path, { path, lines: picture.lines });
  return { files, failures: tree.failures, deleted: [...tree.deleted] };
}

function applyFile(tree: Tree, message: PatchMessage, diff: FileDiff, offsets: Map<string, number>): void {
  const at = (index: number) => ({ file: message.ref.source, line: inputLine(message, index) });
  const fail = (hunk: { header: string; index: number }, path: string, why: string) =>
    tree.failures.push({ patch: message.ref, at: at(hunk.index), path, hunk: hunk.header, why });
  const path = diff.to ?? diff.from;
  if (path === undefined) return; // /dev/null to /dev/null, or a `diff --git` line we cannot read
  const first = diff.hunks[0] ?? diff;
  if (diff.from !== undefined && tree.deleted.has(diff.from))
    return void fail(first, diff.from, `${diff.from} was deleted by an earlier patch`);
  if (diff.from === undefined) {
    const existing = tree.files.get(path);
    const known = existing?.lines.find((l) => l !== undefined);
    if (known !== undefined)
      return void fail(
        first,
        path,
        `it creates ${path}, which the series already has (from ${where(known)})`,
      );
    setPicture(tree, path, { lines: [], complete: true });
  } else if (diff.mode !== undefined && diff.from !== path) {
    const source = tree.files.get(diff.from);
    setPicture(tree, path, { lines: [...(source?.lines ?? [])], complete: source?.complete ?? false });
    if (diff.mode === 'rename') removePicture(tree, diff.from);
  }
  tree.deleted.delete(path);
  if (diff.hunks.length > 0) {
    // A file first seen: all its lines unknown, however many there are.
    const picture = tree.files.get(path) ?? setPicture(tree, path, { lines: [], complete: false });
    for (const hunk of diff.hunks) {
      const why = hunk.malformed ?? applyHunk(tree, picture, hunk, message, offsets, path);
      if (why !== undefined) fail(hunk, path, why);
    }
  }
  if (diff.to === undefined) removePicture(tree, path);
}

function setPicture(tree: Tree, path: string, picture: Picture): Picture {
  tree.slots += picture.lines.length - (tree.files.get(path)?.lines.length ?? 0);
  tree.files.set(path, picture);
  return picture;
}

function removePicture(tree: Tree, path: string): void {
  tree.slots -= tree.files.get(path)?.lines.length ?? 0;
  tree.files.delete(path);
  tree.deleted.add(path);
}

/** Applies one hunk to a file's picture; why not, if it does not apply. */
function applyHunk(
  tree: Tree,
  picture: Picture,
  hunk: Hunk,
  message: PatchMessage,
  offsets: Map<string, number>,
  path: string,
): string | undefined {
  const pre = hunk.lines.filter((l) => l.kind !== '+');
  const post = hunk.lines.filter((l) => l.kind !== '-');
  // `@@ -a,0` inserts after line a; `@@ -a,b` replaces lines a..a+b-1.
  const stated = (pre.length === 0 ? hunk.oldStart : hunk.oldStart - 1) + (offsets.get(path) ?? 0);
  if (stated < 0) return 'its header starts at line 0 but removes or keeps lines';
  const lines = picture.lines;
  const mismatch = firstMismatch(picture, stated, pre);
  const start = mismatch === undefined ? stated : search(tree, picture, stated, pre);
  if (start === undefined)
    return tree.comparisons > APPLY_LIMITS.comparisons
      ? `${mismatch} (the search for another place stopped after ${APPLY_LIMITS.comparisons} comparisons in this series)`
      : mismatch;
  const length = Math.max(lines.length, start + pre.length) + post.length - pre.length;
  if (length > APPLY_LIMITS.linesPerFile || tree.slots + length - lines.length > APPLY_LIMITS.lines)
    return `the file would exceed the ${APPLY_LIMITS.linesPerFile} lines per file, ${APPLY_LIMITS.lines} in all, that snp-conform follows`;
  tree.moves += Math.max(0, lines.length - start) + post.length;
  if (tree.moves > APPLY_LIMITS.moves)
    return `the series moves more than ${APPLY_LIMITS.moves} lines to apply`;
  const at = (l: HunkLine) => ({ file: message.ref.source, line: inputLine(message, l.index) });
  // Base lines the hunk shows for the first time are learned; its context lines keep their origin.
  const seen = pre.map(
    (l, j) => lines[start + j] ?? { text: l.text, at: at(l), patch: message.ref, added: false },
  );
  let j = 0;
  const replacement = hunk.lines.flatMap((l): KnownLine[] => {
    if (l.kind === '+') return [{ text: l.text, at: at(l), patch: message.ref, added: true }];
    const line = seen[j++];
    return l.kind === ' ' && line !== undefined ? [line] : [];
  });
  const was = lines.length;
  while (lines.length < start) lines.push(undefined); // a hunk past the known end: unknown base lines up to it
  lines.splice(start, pre.length);
  // In slices: a call takes a limited number of arguments.
  for (let k = 0; k < replacement.length; k += 10_000)
    lines.splice(start + k, 0, ...replacement.slice(k, k + 10_000));
  tree.slots += lines.length - was;
  offsets.set(path, (offsets.get(path) ?? 0) + start - stated + post.length - pre.length);
  return undefined;
}

/** Whether two lines are the same, but for trailing whitespace (mailers and editors drop or add it). */
const same = (a: string, b: string) => a === b || a.trimEnd() === b.trimEnd();

/** The first line of the pre-image that the picture contradicts at `start`, in words; undefined if none. */
function firstMismatch(picture: Picture, start: number, pre: readonly HunkLine[]): string | undefined {
  const { lines, complete } = picture;
  const pastEnd = (line: number, expects?: HunkLine) =>
    `line ${line} is past the end of the file (${lines.length} lines)${expects === undefined ? '' : `, the hunk expects \`${shown(expects.text)}\``}`;
  for (const [j, l] of pre.entries()) {
    const line = lines[start + j];
    // A file the series created has no unknown line: beyond its known lines, it has ended.
    if (line === undefined && complete) return pastEnd(start + j + 1, l);
    if (line !== undefined && !same(line.text, l.text))
      return `line ${start + j + 1} is \`${shown(line.text)}\` in the tree (from ${where(line)}), the hunk expects \`${shown(l.text)}\``;
  }
  return complete && start > lines.length ? pastEnd(start) : undefined;
}

/**
 * Where else the pre-image fits, like patch's offset search: the start nearest to `stated` (the
 * later one of two as near) where every known line of the window agrees and at least one is known.
 */
function search(tree: Tree, picture: Picture, stated: number, pre: readonly HunkLine[]): number | undefined {
  const { lines, complete } = picture;
  if (pre.length === 0) return undefined;
  const last = complete ? lines.length - pre.length : lines.length - 1;
  const fits = (start: number) => {
    let known = false;
    for (const [j, l] of pre.entries()) {
      tree.comparisons++;
      const line = lines[start + j];
      if (line === undefined) continue;
      if (!same(line.text, l.text)) return false;
      known = true;
    }
    return known;
  };
  // Starts run over 0..last; d starts where the first of them is, however far `stated` is.
  for (let d = Math.max(1, stated - last); stated + d <= last || stated - d >= 0; d++) {
    if (tree.comparisons > APPLY_LIMITS.comparisons) return undefined;
    if (stated + d <= last && fits(stated + d)) return stated + d;
    if (stated - d >= 0 && fits(stated - d)) return stated - d;
  }
  return undefined;
}

const where = (line: KnownLine) => `${line.at.file}:${line.at.line}`;

/** A line's text for a message: at most 60 characters. */
const shown = (text: string) => (text.length > 60 ? `${text.slice(0, 59)}…` : text);
