import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  APPLY_LIMITS,
  type AppliedSeries,
  applySeries,
  type KnownLine,
  knownRuns,
  type TreeFile,
} from './apply.js';
import { type PatchMessage, readSeries } from './mail.js';
import { applyEdits, type Edit, mail, renderDiff } from './testing.js';

const FILE = 'arch/x86/kvm/svm/sev.c';
/** A plain message (no headers) named `source`, its text starting at input line 1. */
const plain = (source: string, text: string): PatchMessage => ({ ref: { source }, text, firstLine: 1 });
const texts = (file: TreeFile | undefined) => file?.lines.map((l) => l?.text);
const file = (applied: AppliedSeries, path = FILE) => applied.files.get(path);
/** The input line of `source` that holds `needle`. */
const lineIn = (text: string, needle: string) => text.split('\n').indexOf(needle) + 1;

describe('applySeries: a series as posted', () => {
  it('leaves the function as the later patch fixed it, each line naming the patch that added it', () => {
    // Arrange: 1/2 adds a function into a file it shows only around line 20; 2/2 fixes its loop.
    const added = [
      'static int snp_pages(int n)',
      '{',
      '\tint i, c = 0;',
      '',
      '\tfor (i = 0; i <= n; i++)',
      '\t\tc++;',
      '\treturn c;',
      '}',
    ];
    const base = ['#include <linux/kvm_host.h>', '', 'static int sev_flag;'];
    const first = renderDiff(FILE, base, [{ at: 3, remove: 0, insert: ['', ...added] }]).replaceAll(
      '@@ -1,3 +1,12 @@',
      '@@ -18,3 +18,12 @@',
    );
    const after = [...base, '', ...added];
    const fix = renderDiff(FILE, after, [
      { at: 8, remove: 1, insert: ['\tfor (i = 0; i < n; i++)'] },
    ]).replace(
      /@@ -(\d+),(\d+) \+(\d+),(\d+) @@/,
      (_, a, b, c, d) => `@@ -${+a + 17},${b} +${+c + 17},${d} @@`,
    );
    const mbox = [
      mail({ subject: '[PATCH 2/2] KVM: SVM: Count n pages, not n + 1', body: `Off by one.\n---\n${fix}` }),
      mail({ subject: '[PATCH 1/2] KVM: SVM: Add snp_pages()', body: `Counts pages.\n---\n${first}` }),
    ].join('');
    const series = readSeries([{ name: 'fix.mbox', text: mbox }]);
    // Act
    const applied = applySeries(series.messages);
    // Assert
    expect(applied.failures).toEqual([]);
    const lines = file(applied)?.lines ?? [];
    expect(lines.slice(0, 17)).toEqual(Array(17).fill(undefined));
    expect(texts(file(applied))?.slice(17)).toEqual([
      ...base,
      '',
      ...added.slice(0, 4),
      '\tfor (i = 0; i < n; i++)',
      ...added.slice(5),
    ]);
    const [one, two] = series.messages;
    const origin = (l: KnownLine | undefined) => [l?.patch.subject, l?.added, l?.at.line];
    expect(origin(lines[17])).toEqual([
      'KVM: SVM: Add snp_pages()',
      false,
      lineIn(mbox, ' #include <linux/kvm_host.h>'),
    ]);
    expect(origin(lines[21])).toEqual([
      'KVM: SVM: Add snp_pages()',
      true,
      lineIn(mbox, '+static int snp_pages(int n)'),
    ]);
    expect(origin(lines[25])).toEqual([
      'KVM: SVM: Count n pages, not n + 1',
      true,
      lineIn(mbox, '+\tfor (i = 0; i < n; i++)'),
    ]);
    expect(lines[21]?.patch).toBe(one?.ref);
    expect(lines[25]?.patch).toBe(two?.ref);
    expect(
      knownRuns(file(applied) ?? { path: FILE, lines: [] }).map((r) => [r.startLine, r.lines.length]),
    ).toEqual([[18, 12]]);
  });
});

describe('applySeries: placing hunks', () => {
  const base = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`);
  const show = plain('show.patch', renderDiff('f.c', base, [{ at: 5, remove: 1, insert: ['line six'] }], 5));

  it('applies a hunk on lines never seen where its header says, learning them as base lines', () => {
    // Act
    const applied = applySeries([show]);
    // Assert
    const lines = file(applied, 'f.c')?.lines ?? [];
    expect(texts(file(applied, 'f.c'))).toEqual([...base.slice(0, 5), 'line six', ...base.slice(6, 11)]);
    expect(lines.map((l) => l?.added)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(lines[0]?.at).toEqual({ file: 'show.patch', line: 5 });
  });

  it('finds a hunk whose lines moved at the nearest offset where the known lines agree', () => {
    // Arrange: the second patch was made on a tree with two more lines before line 8.
    const shifted = ['x', 'y', ...base.slice(0, 5), 'line six', ...base.slice(6)];
    const edit = renderDiff('f.c', shifted, [{ at: 9, remove: 1, insert: ['line eight'] }], 1);
    // Act
    const applied = applySeries([show, plain('edit.patch', edit)]);
    // Assert
    expect(applied.failures).toEqual([]);
    expect(texts(file(applied, 'f.c'))?.[7]).toBe('line eight');
  });

  it('reports a hunk that fits nowhere, naming the first line that differs, and goes on', () => {
    // Arrange
    const wrong = renderDiff(
      'f.c',
      [...base.slice(0, 6), 'line 7 changed', ...base.slice(7)],
      [{ at: 7, remove: 1, insert: ['8'] }],
      1,
    );
    const later = renderDiff(
      'f.c',
      [...base.slice(0, 5), 'line six', ...base.slice(6)],
      [{ at: 2, remove: 1, insert: ['three'] }],
      1,
    );
    // Act
    const applied = applySeries([show, plain('wrong.patch', wrong), plain('later.patch', later)]);
    // Assert
    expect(applied.failures).toEqual([
      {
        patch: { source: 'wrong.patch' },
        at: { file: 'wrong.patch', line: 4 },
        path: 'f.c',
        hunk: '@@ -7,3 +7,3 @@',
        why: 'line 7 is `line 7` in the tree (from show.patch:12), the hunk expects `line 7 changed`',
      },
    ]);
    expect(texts(file(applied, 'f.c'))?.slice(0, 8)).toEqual([
      'line 1',
      'line 2',
      'three',
      'line 4',
      'line 5',
      'line six',
      'line 7',
      'line 8',
    ]);
  });

  it('places later hunks of a message by the offset the earlier ones left', () => {
    // Arrange: the second hunk falls on lines never seen, so only its header places it.
    const edits: Edit[] = [
      { at: 1, remove: 0, insert: ['a', 'b', 'c'] },
      { at: 9, remove: 2, insert: [] },
    ];
    // Act
    const applied = applySeries([plain('two.patch', renderDiff('f.c', base, edits, 1))]);
    // Assert
    const unseen = /^line [3-8]$/;
    expect(texts(file(applied, 'f.c'))).toEqual(
      applyEdits(base, edits, (t) => t).map((t) => (unseen.test(t) ? undefined : t)),
    );
  });

  it('takes a context line that differs only in trailing whitespace, keeping the line as first seen', () => {
    // Arrange
    const shown = [...base.slice(0, 5), 'line six', ...base.slice(6)];
    const text = renderDiff('f.c', shown, [{ at: 9, remove: 1, insert: ['ten'] }], 1).replace(
      ' line 9',
      ' line 9 \t',
    );
    // Act
    const applied = applySeries([show, plain('spaces.patch', text)]);
    // Assert
    expect(applied.failures).toEqual([]);
    expect(
      file(applied, 'f.c')
        ?.lines.slice(8, 10)
        .map((l) => [l?.text, l?.at.file]),
    ).toEqual([
      ['line 9', 'show.patch'],
      ['ten', 'spaces.patch'],
    ]);
  });
});

describe('applySeries: files', () => {
  it('creates, renames and deletes files; a mode change or a binary patch changes nothing', () => {
    // Arrange
    const created = renderDiff('new.c', undefined, [{ at: 0, remove: 0, insert: ['int a;', 'int b;'] }]);
    const renamed = [
      'diff --git a/new.c b/moved.c',
      'similarity index 80%',
      'rename from new.c',
      'rename to moved.c',
      '--- a/new.c',
      '+++ b/moved.c',
      '@@ -1,2 +1,2 @@',
      ' int a;',
      '-int b;',
      '+int c;',
      'diff --git a/run.sh b/run.sh',
      'old mode 100644',
      'new mode 100755',
      'diff --git a/logo.png b/logo.png',
      'index 0000000..1111111 100644',
      'GIT binary patch',
      'literal 1',
      'AcmZQz',
      '',
    ].join('\n');
    const deleted = [
      'diff --git a/old.c b/old.c',
      'deleted file mode 100644',
      '--- a/old.c',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-int old;',
      '',
    ].join('\n');
    // Act
    const applied = applySeries([
      plain('1.patch', created),
      plain('2.patch', renamed),
      plain('3.patch', deleted),
    ]);
    // Assert
    expect(applied.failures).toEqual([]);
    expect([...applied.files.keys()]).toEqual(['moved.c']);
    expect(texts(file(applied, 'moved.c'))).toEqual(['int a;', 'int c;']);
    expect(applied.deleted).toEqual(['new.c', 'old.c']);
  });

  it('refuses to create a file the series has, or to change one it deleted', () => {
    // Arrange
    const created = renderDiff('new.c', undefined, [{ at: 0, remove: 0, insert: ['int a;'] }]);
    const gone = ['--- a/new.c', '+++ /dev/null', '@@ -1 +0,0 @@', '-int a;', ''].join('\n');
    const change = renderDiff('new.c', ['int a;'], [{ at: 1, remove: 0, insert: ['int b;'] }]);
    // Act
    const applied = applySeries([
      plain('1.patch', created),
      plain('2.patch', created),
      plain('3.patch', gone),
      plain('4.patch', change),
    ]);
    // Assert
    expect(applied.failures.map((f) => [f.at.file, f.hunk, f.why])).toEqual([
      ['2.patch', '@@ -0,0 +1 @@', 'it creates new.c, which the series already has (from 1.patch:5)'],
      ['4.patch', '@@ -1 +1,2 @@', 'new.c was deleted by an earlier patch'],
    ]);
  });

  it('handles "\\ No newline at end of file" and reports malformed hunks without throwing', () => {
    // Arrange
    const noNewline = [
      '--- a/n.c',
      '+++ b/n.c',
      '@@ -1 +1 @@',
      '-int a;',
      '\\ No newline at end of file',
      '+int a;',
      '',
    ].join('\n');
    const short = ['--- a/s.c', '+++ b/s.c', '@@ -1,3 +1,3 @@', ' a', '-b', '+c'].join('\n');
    const long = ['--- a/l.c', '+++ b/l.c', '@@ -1 +1 @@', '-a', '+b', '+c', ''].join('\n');
    const garbage = [
      '--- a/g.c',
      '+++ b/g.c',
      '@@ -1,2 +1,2 @@',
      ' a',
      'what?',
      '@@ -5 +5 @@',
      '-e',
      '+f',
      '',
    ].join('\n');
    // Act
    const applied = applySeries([noNewline, short, long, garbage].map((t, i) => plain(`${i}.patch`, t)));
    // Assert
    expect(applied.failures.map((f) => [f.path, f.at.line, f.why])).toEqual([
      ['s.c', 3, 'the diff ends after 3 of its lines'],
      ['l.c', 3, 'it has more lines than its header counts'],
      ['g.c', 3, 'hunk line 2 (`what?`) is not a context, removed or added line'],
    ]);
    expect(texts(file(applied, 'n.c'))).toEqual(['int a;']);
    expect(texts(file(applied, 'g.c'))).toEqual([undefined, undefined, undefined, undefined, 'f']);
  });

  it('refuses a hunk beyond the lines it follows instead of growing without bound', () => {
    // Arrange
    const far = [
      '--- a/f.c',
      '+++ b/f.c',
      `@@ -${APPLY_LIMITS.linesPerFile + 1} +${APPLY_LIMITS.linesPerFile + 1} @@`,
      '-a',
      '+b',
      '',
    ].join('\n');
    // Act
    const applied = applySeries([plain('far.patch', far)]);
    // Assert
    expect(applied.failures.map((f) => f.why)).toEqual([
      'the file would exceed the 1000000 lines per file, 8000000 in all, that snp-conform follows',
    ]);
    expect(texts(file(applied, 'f.c'))).toEqual([]);
  });
});

describe('applySeries: laws', () => {
  const line = fc.constantFrom(
    '',
    'a',
    'b',
    '}',
    '\treturn 0;',
    '-- ',
    '- x',
    '+',
    '--- a/f.c',
    '@@ -1 +1 @@',
  );
  /** Raw edits, placed on the file by `place` so they do not overlap. */
  const rawEdits = fc.array(
    fc.record({ pos: fc.nat(60), remove: fc.nat(3), insert: fc.array(line, { maxLength: 3 }) }),
    { minLength: 1, maxLength: 3 },
  );
  const place = (
    length: number,
    raw: readonly { pos: number; remove: number; insert: string[] }[],
  ): Edit[] => {
    const edits: Edit[] = [];
    let end = 0;
    for (const r of [...raw].sort((a, b) => (a.pos % (length + 1)) - (b.pos % (length + 1)))) {
      const at = Math.max(end, r.pos % (length + 1));
      const remove = Math.min(r.remove, length - at);
      if (remove === 0 && r.insert.length === 0) continue;
      edits.push({ at, remove, insert: r.insert });
      end = at + remove;
    }
    return edits;
  };
  /** Renders each message's edits as a diff of the file as the messages before it left it. */
  const series = (
    base: readonly string[],
    raws: readonly Parameters<typeof place>[1][],
    context: number,
    create: boolean,
  ) => {
    type Line = { text: string; by: number };
    let current: Line[] = base.map((text) => ({ text, by: -1 }));
    const messages: PatchMessage[] = [];
    if (create) {
      messages.push(
        plain('0.patch', renderDiff('f.c', undefined, [{ at: 0, remove: 0, insert: base }], context)),
      );
      current = base.map((text) => ({ text, by: 0 }));
    }
    for (const raw of raws) {
      const edits = place(current.length, raw);
      if (edits.length === 0) continue;
      const by = messages.length;
      const text = renderDiff(
        'f.c',
        current.map((l) => l.text),
        edits,
        context,
      );
      messages.push(plain(`${by}.patch`, text));
      current = applyEdits(current, edits, (t) => ({ text: t, by }));
    }
    return { messages, final: current };
  };
  const cases = fc.record({
    base: fc.array(line, { maxLength: 30 }),
    raws: fc.array(rawEdits, { minLength: 1, maxLength: 5 }),
    context: fc.integer({ min: 0, max: 3 }),
  });

  it('knows every line of a file the series created, each from the message that added it (property)', () => {
    fc.assert(
      fc.property(cases, ({ base, raws, context }) => {
        const { messages, final } = series(base, raws, context, true);
        const applied = applySeries(messages);
        expect(applied.failures).toEqual([]);
        const lines = file(applied, 'f.c')?.lines ?? [];
        expect(lines.map((l) => l?.text)).toEqual(final.map((l) => l.text));
        expect(lines.map((l) => l?.patch)).toEqual(final.map((l) => messages[l.by]?.ref));
      }),
      { seed: 0x5e41e5, numRuns: 300 },
    );
  });

  it('on a base it never saw, places every added line where it is and learns only true base lines (property)', () => {
    fc.assert(
      fc.property(cases, ({ base, raws, context }) => {
        const { messages, final } = series(base, raws, context, false);
        const applied = applySeries(messages);
        expect(applied.failures).toEqual([]);
        const lines = file(applied, 'f.c')?.lines ?? [];
        expect(lines.length).toBeLessThanOrEqual(final.length);
        final.forEach((real, i) => {
          const known = lines[i];
          if (real.by >= 0)
            expect(known).toMatchObject({ text: real.text, added: true, patch: messages[real.by]?.ref });
          else if (known !== undefined) expect(known).toMatchObject({ text: real.text, added: false });
        });
      }),
      { seed: 0xba5e, numRuns: 300 },
    );
  });

  it('never throws on any diff-like text (property)', () => {
    const fragment = fc.oneof(
      fc.constantFrom(
        'diff --git a/f b/f',
        '--- a/f',
        '+++ b/f',
        '--- /dev/null',
        '+++ /dev/null',
        'rename from f',
        'rename to g',
        'new file mode 100644',
        '@@ -1,2 +1,3 @@',
        '@@ -0,0 +1 @@',
        '@@ -999999999 +1 @@',
        '\\ No newline at end of file',
      ),
      line.map((l) => ` ${l}`),
      line.map((l) => `-${l}`),
      line.map((l) => `+${l}`),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(fc.array(fragment, { maxLength: 30 }), { maxLength: 4 }), (texts) => {
        applySeries(readSeries(texts.map((t, i) => ({ name: `${i}`, text: t.join('\n') }))).messages);
      }),
      { seed: 0xd1ff, numRuns: 500 },
    );
  });
});
