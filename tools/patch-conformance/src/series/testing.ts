// Test helpers for src/series: a small unified-diff renderer and `git format-patch`-style mails.

/** Replace `remove` lines at 0-based `at` of a file by `insert`. */
export interface Edit {
  readonly at: number;
  readonly remove: number;
  readonly insert: readonly string[];
}

/** Applies edits sorted by `at` that do not overlap (positions are in the file before all of them). */
export function applyEdits<T>(lines: readonly T[], edits: readonly Edit[], wrap: (text: string) => T): T[] {
  const out: T[] = [];
  let i = 0;
  for (const edit of edits) {
    out.push(...lines.slice(i, edit.at), ...edit.insert.map(wrap));
    i = edit.at + edit.remove;
  }
  return [...out, ...lines.slice(i)];
}

const range = (start: number, count: number) =>
  `${count === 0 ? start : start + 1}${count === 1 ? '' : `,${count}`}`;

/**
 * A unified diff of `path` for the edits (as applyEdits takes them), with `context` lines around
 * each change and hunks merged when their contexts would overlap, like `diff -U<context>`; `old`
 * undefined renders the file's creation (`edits` then holds its one insertion).
 */
export function renderDiff(
  path: string,
  old: readonly string[] | undefined,
  edits: readonly Edit[],
  context = 3,
): string {
  const out = [`diff --git a/${path} b/${path}`];
  out.push(old === undefined ? '--- /dev/null' : `--- a/${path}`, `+++ b/${path}`);
  const base = old ?? [];
  const groups: Edit[][] = [];
  for (const edit of edits) {
    const group = groups.at(-1);
    const previous = group?.at(-1);
    if (
      group !== undefined &&
      previous !== undefined &&
      edit.at - (previous.at + previous.remove) <= 2 * context
    )
      group.push(edit);
    else groups.push([edit]);
  }
  let delta = 0;
  for (const group of groups) {
    const first = group[0] as Edit;
    const last = group.at(-1) as Edit;
    const from = Math.max(0, first.at - context);
    const to = Math.min(base.length, last.at + last.remove + context);
    const lines: string[] = [];
    let i = from;
    for (const edit of group) {
      lines.push(...base.slice(i, edit.at).map((l) => ` ${l}`));
      lines.push(...base.slice(edit.at, edit.at + edit.remove).map((l) => `-${l}`));
      lines.push(...edit.insert.map((l) => `+${l}`));
      i = edit.at + edit.remove;
    }
    lines.push(...base.slice(i, to).map((l) => ` ${l}`));
    const oldCount = lines.filter((l) => !l.startsWith('+')).length;
    const newCount = lines.filter((l) => !l.startsWith('-')).length;
    out.push(`@@ -${range(from, oldCount)} +${range(from + delta, newCount)} @@`, ...lines);
    delta += newCount - oldCount;
  }
  return `${out.join('\n')}\n`;
}

export interface MailOptions {
  readonly subject: string;
  /** Commit message and diff. */
  readonly body: string;
  readonly from?: string;
  /** Extra header lines (Content-Type, Content-Transfer-Encoding …). */
  readonly headers?: readonly string[];
  readonly sha?: string;
}

/** A message as `git format-patch` writes it: From line, headers, body, signature. */
export function mail(options: MailOptions): string {
  return [
    `From ${options.sha ?? '0123456789abcdef0123456789abcdef01234567'} Mon Sep 17 00:00:00 2001`,
    `From: ${options.from ?? 'A Developer <dev@example.org>'}`,
    'Date: Tue, 2 Mar 2021 10:00:00 +0100',
    `Subject: ${options.subject}`,
    ...(options.headers ?? []),
    '',
    options.body.replace(/\n$/, ''),
    '-- ',
    '2.30.0',
    '',
    '',
  ].join('\n');
}
