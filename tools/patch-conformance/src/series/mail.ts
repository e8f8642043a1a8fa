// Reads patches as they are posted: mbox files, `git format-patch` files, single mails, plain diffs.
// Pure (the caller reads the files), and safe on any input: limits and linear-time regexes only.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TextDecoder, TextEncoder } from 'node:util';
import { ConformInputError, type PatchRef } from '../input.js';

export interface PatchMessage {
  readonly ref: PatchRef;
  /**
   * The message's body (the commit message + diff) as lines of the input: for a mail, without the
   * CR of CRLF line ends and with mboxrd's `>From ` quoting undone; a plain input's whole text.
   */
  readonly text: string;
  /** 1-based line of the input where `text` starts: text line i is input line firstLine + i ... */
  readonly firstLine: number;
  /**
   * ... unless the body was quoted-printable or base64 (RFC 2045 §6.7, §6.8): then lineMap[i] is the
   * input line where text line i was encoded (for base64, the encoded line holding its first byte).
   * Use inputLine().
   */
  readonly lineMap?: readonly number[];
}

export interface SkippedMessage {
  readonly source: string;
  readonly line: number;
  readonly subject: string;
  readonly why: string;
}

export interface Series {
  /** The patches to apply, in order. */
  readonly messages: readonly PatchMessage[];
  readonly skipped: readonly SkippedMessage[];
  /** The n's of 1..m no kept message has (m: the largest of the kept messages' m). */
  readonly missing: readonly number[];
}

export const LIMITS = {
  /** Characters (UTF-16 units, so at most as many bytes) of one input. */
  inputChars: 32 * 1024 * 1024,
  /** Messages in all the inputs of one readSeries call. */
  messages: 10_000,
  /** Characters of one unfolded header field. */
  headerChars: 64 * 1024,
} as const;

/** The input line (1-based) of line i (0-based) of a message's text. */
export function inputLine(message: PatchMessage, i: number): number {
  return message.lineMap?.[i] ?? message.firstLine + i;
}

/** Files to read for the paths given: a directory gives its patch and mail files, sorted by name. */
export function listInputFiles(paths: readonly string[]): { name: string; path: string }[] {
  return paths.flatMap((path) => {
    if (path === '-') return [{ name: '<stdin>', path }];
    let names: string[] | undefined;
    try {
      // Files and symlinks (read through); a subdirectory is not an input.
      if (statSync(path).isDirectory())
        names = readdirSync(path, { withFileTypes: true })
          .filter((e) => e.isFile() || e.isSymbolicLink())
          .map((e) => e.name);
    } catch (error) {
      throw new ConformInputError(
        `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    if (names === undefined) return [{ name: path, path }];
    // Code-unit order, as `git format-patch` numbers its files (0001-…), whatever the locale.
    const found = names.filter((f) => /\.(?:patch|diff|mbox|mbx|eml)$/i.test(f)).sort();
    if (found.length === 0)
      throw new ConformInputError(`${path}: no *.patch, *.diff, *.mbox, *.mbx or *.eml file`);
    return found.map((f) => ({ name: join(path, f), path: join(path, f) }));
  });
}

/** A message as read, before selection. */
interface Read {
  readonly message: PatchMessage;
  /** 1-based input line where the message starts, for `skipped`. */
  readonly line: number;
  /** The Subject as posted (decoded), '' if none. */
  readonly subject: string;
  readonly reply: boolean;
  /** Why it cannot be used at all (a multipart message without parts), if so. */
  readonly unusable?: string;
}

/** Reads the inputs' messages and picks the patches of the series (see Series). */
export function readSeries(inputs: readonly { name: string; text: string }[]): Series {
  const read: Read[] = [];
  for (const input of inputs) {
    if (input.text.length > LIMITS.inputChars)
      throw new ConformInputError(`${input.name}: larger than ${LIMITS.inputChars / 1024 / 1024} MiB`);
    for (const message of readInput(input.name, input.text)) {
      if (read.length === LIMITS.messages)
        throw new ConformInputError(`${input.name}: more than ${LIMITS.messages} messages in the input`);
      read.push(message);
    }
  }
  return select(read);
}

/** Why a message is not a patch of the series, if it is not. */
function notAPatch(r: Read): string | undefined {
  if (r.unusable !== undefined) return r.unusable;
  if (r.reply) return 'reply';
  if (r.message.ref.n === 0) return 'cover letter';
  return hasDiff(r.message.text) ? undefined : 'no diff';
}

function select(read: readonly Read[]): Series {
  const skipped: { order: number; message: SkippedMessage }[] = [];
  const order = new Map(read.map((r, i) => [r, i]));
  const skip = (r: Read, why: string) =>
    skipped.push({
      order: order.get(r) ?? 0,
      message: { source: r.message.ref.source, line: r.line, subject: r.subject, why },
    });
  const patches = read.filter((r) => {
    const why = notAPatch(r);
    if (why !== undefined) skip(r, why);
    return why === undefined;
  });
  // Several versions of a series: the newest only. A tag without vN is v1 (git format-patch -v).
  const tagged = patches.filter((r) => r.message.ref.tag !== undefined);
  const newest = Math.max(...tagged.map((r) => r.message.ref.version ?? 1));
  const current = patches.filter((r) => {
    const old = r.message.ref.tag !== undefined && (r.message.ref.version ?? 1) < newest;
    if (old) skip(r, `superseded by v${newest}`);
    return !old;
  });
  // By n, stable; messages without n (a plain diff, [PATCH]) after the numbered ones.
  const ordered = [...current].sort(
    (a, b) => (a.message.ref.n ?? Number.POSITIVE_INFINITY) - (b.message.ref.n ?? Number.POSITIVE_INFINITY),
  );
  const seen = new Map<number, Read>();
  const kept = ordered.filter((r) => {
    const n = r.message.ref.n;
    if (n === undefined) return true;
    const first = seen.get(n);
    if (first !== undefined)
      skip(r, `duplicate of patch ${n} (kept the one at ${first.message.ref.source}:${first.line})`);
    else seen.set(n, r);
    return first === undefined;
  });
  const m = Math.max(0, ...kept.map((r) => r.message.ref.m ?? 0));
  const missing = Array.from({ length: m }, (_, i) => i + 1).filter((n) => !seen.has(n));
  return {
    messages: kept.map((r) => r.message),
    skipped: skipped.sort((a, b) => a.order - b.order).map((s) => s.message),
    missing,
  };
}

/** A line that starts a diff: git's header, or a unified hunk's. Quoted (`> `) lines of replies do not. */
function hasDiff(text: string): boolean {
  return /^(?:diff --git |@@ -\d)/m.test(text);
}

// ---- Splitting an input into messages ----

/** An RFC 5322 field name (§3.6.8: printable US-ASCII but ':') and its colon. */
const FIELD = /^([!-9;-~]+):/;

/**
 * git mailsplit's is_from_line() (builtin/mailsplit.c): "From ", then a time hh:mm:ss (its last
 * colon) followed by a year after 1990. Like `From 0123…ef Mon Sep 17 00:00:00 2001` from git
 * format-patch, or an mbox's `From sender Thu Jan  1 00:00:00 1970`.
 */
function isFromLine(line: string): boolean {
  if (!line.startsWith('From ') || line.length < 20) return false;
  const colon = line.lastIndexOf(':');
  const digit = (i: number) => /\d/.test(line.charAt(i));
  if (colon < 9 || ![-4, -2, -1, 1, 2].every((d) => digit(colon + d))) return false;
  return Number(/^\s*(\d{1,9})/.exec(line.slice(colon + 3))?.[1] ?? 0) > 90;
}

/**
 * Where the messages of an mbox start: a From line at the start of the input or after an empty line
 * (RFC 4155 §2), followed by a header field. So a `From ` line in a commit message (git format-patch
 * does not quote them) does not split a message unless it also looks like the start of one.
 */
function isSeparator(lines: readonly string[], i: number): boolean {
  return (i === 0 || lines[i - 1] === '') && isFromLine(lines[i] ?? '') && FIELD.test(lines[i + 1] ?? '');
}

/** A single mail without an mbox From line (*.eml): a header block with From: or Subject:. */
function isMail(lines: readonly string[]): boolean {
  let named = false;
  for (const [i, line] of lines.entries()) {
    if (line === '') return named;
    const field = FIELD.exec(line)?.[1]?.toLowerCase();
    if (field === undefined && !(i > 0 && /^[ \t]/.test(line))) return false;
    named ||= field === 'from' || field === 'subject';
  }
  return false;
}

function readInput(source: string, text: string): Read[] {
  const raw = text.split('\n');
  // An annotated patch's first line would read as a header field: it is a plain diff.
  const plain = raw[0]?.startsWith('snp-ref-flavour:') === true;
  // RFC 5322 §2.1: mail lines end in CRLF.
  const lines = raw.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (!plain && isSeparator(lines, 0)) {
    // mboxrd (and mboxo) quote body lines matching /^>*From / with one more '>': remove it.
    const starts = lines.flatMap((_, i) => (isSeparator(lines, i) ? [i] : []));
    const unquoted = lines.map((l) => (/^>+From /.test(l) ? l.slice(1) : l));
    return starts.map((start, k) =>
      readMail(source, unquoted, start, start + 1, starts[k + 1] ?? unquoted.length),
    );
  }
  if (!plain && isMail(lines)) return [readMail(source, lines, 0, 0, lines.length)];
  return [{ message: { ref: { source }, text, firstLine: 1 }, line: 1, subject: '', reply: false }];
}

// ---- One mail ----

/** The header fields of a block (first occurrence of each, lower-case names, unfolded) and where its body starts. */
function readHeaders(
  source: string,
  lines: readonly string[],
  start: number,
  end: number,
): { fields: Map<string, string>; body: number } {
  const fields = new Map<string, string>();
  let name: string | undefined;
  for (let i = start; i < end; i++) {
    const line = lines[i] ?? '';
    if (line === '') return { fields, body: i + 1 };
    const field = FIELD.exec(line);
    if (field?.[1] !== undefined) {
      name = field[1].toLowerCase();
      if (!fields.has(name)) fields.set(name, line.slice(field[0].length).trim());
      else name = undefined; // a repeated field: the first one counts
    } else if (/^[ \t]/.test(line)) {
      // RFC 5322 §2.2.3: unfolding removes the line break before the folding whitespace.
      if (name !== undefined) fields.set(name, `${fields.get(name) ?? ''}${line}`);
    } else {
      return { fields, body: i }; // not a header: the body starts without the empty line
    }
    if (name !== undefined && (fields.get(name)?.length ?? 0) > LIMITS.headerChars)
      throw new ConformInputError(
        `${source}:${i + 1}: header field ${name} longer than ${LIMITS.headerChars} characters`,
      );
  }
  return { fields, body: end };
}

function readMail(source: string, lines: readonly string[], line: number, start: number, end: number): Read {
  const { fields, body } = readHeaders(source, lines, start, end);
  const subject = decodeWords(fields.get('subject') ?? '').trim();
  const reply = /^(?:re|aw)\s*:/i.test(subject);
  const { tag, rest } = splitTag(subject);
  const numbers = tagNumbers(tag);
  const from = fields.has('from') ? decodeWords(fields.get('from') ?? '').trim() : undefined;
  const ref: PatchRef = {
    source,
    ...(subject === '' ? {} : { subject: rest }),
    ...(tag === undefined ? {} : { tag }),
    ...numbers,
    ...optional('from', from),
    ...optional('date', fields.get('date')),
    ...optional('messageId', fields.get('message-id')),
  };
  const parts: Leaf[] = [];
  leaves(source, lines, fields, body, end, 0, parts);
  // The part holding the diff, else the first text/plain one (a diff attached as text/x-patch is found).
  const chosen =
    parts.find((p) => hasDiff(p.body.text)) ?? parts.find((p) => /^text\/plain\b/i.test(p.type)) ?? parts[0];
  const read = { line: line + 1, subject, reply };
  if (chosen === undefined)
    return {
      ...read,
      message: { ref, text: '', firstLine: body + 1 },
      unusable: 'multipart message without parts',
    };
  return { ...read, message: { ref, ...chosen.body } };
}

function optional<K extends string>(key: K, value: string | undefined): { [k in K]?: string } {
  return value === undefined ? {} : ({ [key]: value } as { [k in K]: string });
}

/** The first leading bracket group that names a patch (`[PATCH …]`, `[RFC …]`), past list tags like `[kvm]`. */
function splitTag(subject: string): { tag?: string; rest: string } {
  let rest = subject;
  for (let group = /^\[([^\]]*)\]\s*/.exec(rest); group !== null; group = /^\[([^\]]*)\]\s*/.exec(rest)) {
    rest = rest.slice(group[0].length);
    if (/\b(?:PATCH|RFC)\b/i.test(group[1] ?? '')) return { tag: group[1] ?? '', rest };
  }
  return { rest: subject };
}

/** n/m and vN of a tag (`PATCH Part2 RFC v4 24/40`), as git format-patch writes them (--subject-prefix, -v, -n). */
function tagNumbers(tag: string | undefined): { n?: number; m?: number; version?: number } {
  const out: { n?: number; m?: number; version?: number } = {};
  for (const token of tag?.split(/\s+/) ?? []) {
    const nm = /^(\d{1,4})\/(\d{1,4})$/.exec(token);
    const v = /^v(\d{1,4})$/i.exec(token);
    if (nm !== null) Object.assign(out, { n: Number(nm[1]), m: Number(nm[2]) });
    if (v !== null) out.version = Number(v[1]);
  }
  return out;
}

// ---- MIME (RFC 2045, 2046, 2047) ----

interface Body {
  readonly text: string;
  readonly firstLine: number;
  readonly lineMap?: readonly number[];
}

interface Leaf {
  readonly type: string;
  readonly body: Body;
}

/** A parameter of a Content-Type value (RFC 2045 §5.1), quoted or not. */
function parameter(value: string, name: 'boundary' | 'charset'): string | undefined {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return m?.[1] ?? m?.[2];
}

/** The decoded non-multipart parts of a body, depth-first, multiparts nested at most 4 deep (RFC 2046 §5.1). */
function leaves(
  source: string,
  lines: readonly string[],
  fields: ReadonlyMap<string, string>,
  start: number,
  end: number,
  depth: number,
  out: Leaf[],
): void {
  const type = fields.get('content-type') ?? 'text/plain'; // RFC 2045 §5.2's default
  const boundary = parameter(type, 'boundary');
  if (!/^multipart\//i.test(type) || boundary === undefined) {
    out.push({ type, body: decodeBody(lines, start, end, fields) });
    return;
  }
  if (depth === 4) return;
  // Delimiter lines are "--boundary", the last "--boundary--"; the preamble before the first is not a part.
  let part: number | undefined;
  for (let i = start; i < end; i++) {
    const line = lines[i] ?? '';
    if (!line.startsWith(`--${boundary}`)) continue;
    const after = line.slice(boundary.length + 2).trimEnd();
    if (after !== '' && after !== '--') continue;
    if (part !== undefined) {
      const headers = readHeaders(source, lines, part, i);
      leaves(source, lines, headers.fields, headers.body, i, depth + 1, out);
    }
    if (after === '--') return;
    part = i + 1;
  }
}

/** A body as text, decoded if its Content-Transfer-Encoding says so (RFC 2045 §6). */
function decodeBody(
  lines: readonly string[],
  start: number,
  end: number,
  fields: ReadonlyMap<string, string>,
): Body {
  const encoding = fields.get('content-transfer-encoding')?.toLowerCase();
  const decoder = textDecoder(parameter(fields.get('content-type') ?? '', 'charset'));
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(lines, start, end, decoder);
  if (encoding === 'base64') return decodeBase64(lines, start, end, decoder);
  // 7bit, 8bit, binary: the text as read (the caller decoded the file as UTF-8).
  return { text: lines.slice(start, end).join('\n'), firstLine: start + 1 };
}

function textDecoder(charset: string | undefined): TextDecoder {
  try {
    return new TextDecoder(charset ?? 'utf-8');
  } catch {
    return new TextDecoder('utf-8'); // a charset TextDecoder does not know
  }
}

/** The bytes of quoted-printable text: "=XX" is a byte (RFC 2045 §6.7 rule 1), other characters their UTF-8. */
function quotedPrintableBytes(text: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  const encoder = new TextEncoder();
  let last = 0;
  for (const m of text.matchAll(/=([0-9A-Fa-f]{2})/g)) {
    chunks.push(encoder.encode(text.slice(last, m.index)), Uint8Array.of(Number.parseInt(m[1] ?? '', 16)));
    last = m.index + 3;
  }
  chunks.push(encoder.encode(text.slice(last)));
  return Buffer.concat(chunks);
}

/** Text lines of decoded bytes, each with the input line (1-based) where it starts. */
function bodyOf(
  pieces: readonly { bytes: Uint8Array; line: number }[],
  start: number,
  decoder: TextDecoder,
): Body {
  const text: string[] = [];
  const lineMap: number[] = [];
  for (const piece of pieces)
    for (const line of decoder.decode(piece.bytes).split('\n')) {
      text.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      lineMap.push(piece.line);
    }
  return { text: text.join('\n'), firstLine: lineMap[0] ?? start + 1, lineMap };
}

function decodeQuotedPrintable(
  lines: readonly string[],
  start: number,
  end: number,
  decoder: TextDecoder,
): Body {
  const pieces: { bytes: Uint8Array; line: number }[] = [];
  let pending: Uint8Array[] = [];
  let from = start;
  for (let i = start; i < end; i++) {
    if (pending.length === 0) from = i;
    // Rule 3: trailing whitespace was added in transport; rule 5: a final '=' is a soft line break.
    const line = (lines[i] ?? '').trimEnd();
    const soft = line.endsWith('=');
    pending.push(quotedPrintableBytes(soft ? line.slice(0, -1) : line));
    if (!soft || i === end - 1) {
      pieces.push({ bytes: Buffer.concat(pending), line: from + 1 });
      pending = [];
    }
  }
  return bodyOf(pieces, start, decoder);
}

function decodeBase64(lines: readonly string[], start: number, end: number, decoder: TextDecoder): Body {
  // Decoded as one text (lines need not hold whole 4-character groups); the byte offset where each
  // encoded line starts maps decoded lines back to the input.
  const encoded: string[] = [];
  const lineStarts: number[] = [];
  let chars = 0;
  for (let i = start; i < end; i++) {
    const clean = (lines[i] ?? '').replace(/[^A-Za-z0-9+/]/g, '');
    lineStarts.push(Math.floor((chars * 3) / 4));
    chars += clean.length;
    encoded.push(clean);
  }
  const bytes = Buffer.from(encoded.join(''), 'base64');
  const pieces: { bytes: Uint8Array; line: number }[] = [];
  let k = 0;
  for (let at = 0; at <= bytes.length; ) {
    const newline = bytes.indexOf(10, at);
    const stop = newline < 0 ? bytes.length : newline;
    while ((lineStarts[k + 1] ?? Number.POSITIVE_INFINITY) <= at) k++;
    pieces.push({ bytes: bytes.subarray(at, stop), line: start + k + 1 });
    at = stop + 1;
  }
  return bodyOf(pieces, start, decoder);
}

/**
 * RFC 2047 encoded words in a header value: `=?charset?Q?…?=` (§4.2: "_" is a space, "=XX" a byte)
 * and `=?charset?B?…?=`. Whitespace between two encoded words is dropped (§6.2), and adjacent words
 * of one charset are decoded together, so a character split between them survives.
 */
function decodeWords(value: string): string {
  let out = '';
  let last = 0;
  let run: { charset: string; bytes: Uint8Array[] } | undefined;
  const flush = () => {
    if (run !== undefined) out += textDecoder(run.charset).decode(Buffer.concat(run.bytes));
    run = undefined;
  };
  for (const m of value.matchAll(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g)) {
    const gap = value.slice(last, m.index);
    const charset = ((m[1] ?? '').split('*')[0] ?? '').toLowerCase(); // RFC 2231 §5: charset*language
    const adjacent = last > 0 && /^\s*$/.test(gap); // last > 0: the previous match ends there
    if (!adjacent || run?.charset !== charset) flush();
    if (!adjacent) out += gap;
    const text = m[3] ?? '';
    const bytes = /b/i.test(m[2] ?? '')
      ? Buffer.from(text, 'base64')
      : quotedPrintableBytes(text.replaceAll('_', ' '));
    run ??= { charset, bytes: [] };
    run.bytes.push(bytes);
    last = m.index + m[0].length;
  }
  flush();
  return out + value.slice(last);
}
