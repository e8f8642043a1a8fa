import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConformInputError } from '../input.js';
import { inputLine, LIMITS, listInputFiles, type PatchMessage, readSeries, type Series } from './mail.js';
import { mail, renderDiff } from './testing.js';

const FILE = 'arch/x86/kvm/svm/sev.c';
/** A diff adding `name` to an empty stretch of sev.c at line `at`. */
const adds = (name: string, at = 10) =>
  renderDiff(FILE, undefined, [
    { at: 0, remove: 0, insert: [`static int ${name}(void)`, '{', '\treturn 0;', '}'] },
  ])
    .replace('--- /dev/null', `--- a/${FILE}`)
    .replace('@@ -0,0 +1,4 @@', `@@ -${at},0 +${at + 1},4 @@`);
const patchMail = (
  tag: string,
  subject: string,
  name: string,
  extra: Partial<Parameters<typeof mail>[0]> = {},
) =>
  mail({
    subject: `[${tag}] ${subject}`,
    body: `${subject}.\n\nSigned-off-by: A Developer <dev@example.org>\n---\n${adds(name)}`,
    ...extra,
  });
const one = (text: string, name = 'series.mbox') => readSeries([{ name, text }]);
const subjects = (series: Series) => series.messages.map((m) => m.ref.subject);
/** The input line holding text line `i` of a message must be that line (bodies sent as 8bit). */
const lineOf = (input: string, m: PatchMessage, needle: string) => {
  const i = m.text.split('\n').indexOf(needle);
  return input.split('\n')[inputLine(m, i) - 1];
};

describe('readSeries: a git format-patch file', () => {
  it('reads the headers, the numbers of the tag and the body with its place in the file', () => {
    // Arrange
    const text = patchMail('PATCH Part2 RFC v4 24/40', 'KVM: SVM: Add a page counter', 'snp_count', {
      headers: ['Message-ID: <24-dev@example.org>'],
    });
    // Act
    const series = one(text, '0024-count.patch');
    // Assert
    const [m] = series.messages;
    expect(m?.ref).toEqual({
      source: '0024-count.patch',
      subject: 'KVM: SVM: Add a page counter',
      tag: 'PATCH Part2 RFC v4 24/40',
      n: 24,
      m: 40,
      version: 4,
      from: 'A Developer <dev@example.org>',
      date: 'Tue, 2 Mar 2021 10:00:00 +0100',
      messageId: '<24-dev@example.org>',
    });
    expect(m?.firstLine).toBe(7);
    expect(m === undefined ? '' : lineOf(text, m, '+static int snp_count(void)')).toBe(
      '+static int snp_count(void)',
    );
    expect(series.skipped).toEqual([]);
  });

  it.each([
    ['[PATCH] x: y', { tag: 'PATCH' }],
    ['[RFC PATCH 3/7] x: y', { tag: 'RFC PATCH 3/7', n: 3, m: 7 }],
    ['[PATCH RFC v4 3/7] x: y', { tag: 'PATCH RFC v4 3/7', n: 3, m: 7, version: 4 }],
    ['[PATCH v2 03/10] x: y', { tag: 'PATCH v2 03/10', n: 3, m: 10, version: 2 }],
    ['[kvm-list] [PATCH V3 1/1] x: y', { tag: 'PATCH V3 1/1', n: 1, m: 1, version: 3 }],
  ])('reads the tag of %s', (subject, expected) => {
    // Act
    const series = one(mail({ subject, body: adds('f') }));
    // Assert
    expect(series.messages[0]?.ref).toMatchObject({ subject: 'x: y', ...expected });
  });

  it('unfolds a folded Subject (RFC 5322 §2.2.3) and decodes RFC 2047 encoded words in it and in From', () => {
    // Arrange: a Q word with a UTF-8 character split across two words, a B word, a fold in the tag.
    const text = mail({
      subject: '[PATCH v2\n 1/1] =?UTF-8?q?KVM:_SVM:_Fix_the_na=C3?= =?utf-8?Q?=AFve_check?=',
      from: '=?utf-8?b?SsO2cmcgRMO8bW1p?= <jd@example.org>',
      body: adds('f'),
    });
    // Act
    const [m] = one(text).messages;
    // Assert
    expect(m?.ref).toMatchObject({ subject: 'KVM: SVM: Fix the naïve check', n: 1, version: 2 });
    expect(m?.ref.from).toBe('Jörg Dümmi <jd@example.org>');
  });

  it('does not split at a From line of the commit message, and reads mails with CRLF line ends', () => {
    // Arrange
    const body = `Quoting:\n\nFrom here on, pages are 4K.\nFrom a Mon Sep 17 00:00:00 2001 mail\n\n---\n${adds('f')}`;
    const text = mail({ subject: '[PATCH] x: y', body }).replaceAll('\n', '\r\n');
    // Act
    const series = one(text);
    // Assert
    expect(series.messages).toHaveLength(1);
    expect(series.messages[0]?.text).toContain('From a Mon Sep 17 00:00:00 2001 mail\n');
    expect(series.messages[0]?.text).not.toContain('\r');
  });
});

describe('readSeries: an mbox of a series', () => {
  const diff = adds('snp_two');
  const qp = diff.replace(
    '\treturn 0;',
    '\treturn snp_count_pages_in_a_rather_long_line_that_is_soft_wrapped() =3D=3D 0;',
  );
  const encodedDiff = qp
    .replace('snp_count_pages_in_a_rather_long', 'snp_count_pages_in_a_rather_long=\n')
    .replace('\treturn', '=09return');
  const thread = [
    patchMail('PATCH 3/3', 'KVM: SVM: Add the third', 'snp_three'),
    mail({ subject: '[PATCH 0/3] KVM: SVM: A series', body: 'Cover letter.\n\n a | 3 +++\n' }),
    patchMail('PATCH 1/3', 'KVM: SVM: Add the first', 'snp_one'),
    mail({
      subject: 'Re: [PATCH 2/3] KVM: SVM: Add the second',
      body: `On Tue, A wrote:\n> ${diff.split('\n').join('\n> ')}\nLooks fine.`,
    }),
    mail({
      subject: '[PATCH 2/3] =?utf-8?q?KVM:_SVM:_Add_the_s=C3=A9cond?=',
      headers: [
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset="utf-8"',
        'Content-Transfer-Encoding: quoted-printable',
      ],
      body: `The s=C3=A9cond.\n---\n${encodedDiff}`,
    }),
  ].join('');

  it('keeps the patches in the order of their numbers, leaving out the cover letter and the reply', () => {
    // Act
    const series = one(thread);
    // Assert
    expect(subjects(series)).toEqual([
      'KVM: SVM: Add the first',
      'KVM: SVM: Add the s\u00e9cond',
      'KVM: SVM: Add the third',
    ]);
    expect(series.skipped.map((s) => [s.subject, s.why])).toEqual([
      ['[PATCH 0/3] KVM: SVM: A series', 'cover letter'],
      ['Re: [PATCH 2/3] KVM: SVM: Add the second', 'reply'],
    ]);
    expect(series.skipped[0]?.line).toBe(
      thread.split('\n').indexOf('Subject: [PATCH 0/3] KVM: SVM: A series') - 2,
    );
    expect(series.missing).toEqual([]);
  });

  it('decodes a quoted-printable body and maps each decoded line to the input line it was encoded on', () => {
    // Act
    const second = one(thread).messages[1];
    // Assert
    const wrapped = '+\treturn snp_count_pages_in_a_rather_long_line_that_is_soft_wrapped() == 0;';
    expect(second?.text).toContain(`The s\u00e9cond.\n---\n`);
    expect(second?.text).toContain(`\n${wrapped}\n`);
    const lines = second?.text.split('\n') ?? [];
    const input = thread.split('\n');
    const at = (needle: string) => (second === undefined ? -1 : inputLine(second, lines.indexOf(needle)));
    expect(input[at(wrapped) - 1]).toBe('+=09return snp_count_pages_in_a_rather_long=');
    expect(input[at('+{') - 1]).toBe('+{');
  });

  it('keeps the newest version of a series, naming it for the others', () => {
    // Arrange
    const text = [
      patchMail('PATCH v3 1/2', 'KVM: old first', 'a'),
      patchMail('PATCH v4 2/2', 'KVM: new second', 'b'),
      patchMail('PATCH v3 2/2', 'KVM: old second', 'c'),
      patchMail('PATCH v4 1/2', 'KVM: new first', 'd'),
    ].join('');
    // Act
    const series = one(text);
    // Assert
    expect(subjects(series)).toEqual(['KVM: new first', 'KVM: new second']);
    expect(series.skipped.map((s) => s.why)).toEqual(['superseded by v4', 'superseded by v4']);
  });

  it('keeps the first of two patches with one number, and lists the numbers missing', () => {
    // Arrange
    const text = [
      patchMail('PATCH 4/4', 'KVM: four', 'd'),
      patchMail('PATCH 1/4', 'KVM: one', 'a'),
      patchMail('PATCH 1/4', 'KVM: one again', 'b'),
      patchMail('PATCH 2/4', 'KVM: two', 'c'),
    ].join('');
    // Act
    const series = one(text);
    // Assert
    expect(subjects(series)).toEqual(['KVM: one', 'KVM: two', 'KVM: four']);
    expect(series.skipped).toEqual([
      {
        source: 'series.mbox',
        line: 41,
        subject: '[PATCH 1/4] KVM: one again',
        why: 'duplicate of patch 1 (kept the one at series.mbox:21)',
      },
    ]);
    expect(series.missing).toEqual([3]);
  });

  it("skips a message without a diff, and unquotes mboxrd's >From lines", () => {
    // Arrange
    const text = [
      mail({ subject: '[PATCH 1/2] KVM: words only', body: 'Nothing to apply.' }),
      mail({
        subject: '[PATCH 2/2] KVM: quoted',
        body: `>From the mbox.\n>>From twice.\n\n>From x Mon Sep 17 00:00:00 2001\nFrom: not a header\n---\n${adds('f')}`,
      }),
    ].join('');
    // Act
    const series = one(text);
    // Assert
    expect(series.skipped.map((s) => s.why)).toEqual(['no diff']);
    expect(series.messages).toHaveLength(1);
    expect(series.messages[0]?.text.startsWith('From the mbox.\n>From twice.\n\nFrom x Mon')).toBe(true);
  });

  it('takes the part of a multipart message holding the diff, base64 or not', () => {
    // Arrange
    const encoded = Buffer.from(adds('snp_attached')).toString('base64');
    const wrapped = encoded.match(/.{1,76}/g)?.join('\n') ?? '';
    const text = mail({
      subject: '[PATCH] KVM: attached',
      headers: ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="=-b1"'],
      body: [
        'This is a multi-part message in MIME format.',
        '--=-b1',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'The fix is attached.',
        '--=-b1',
        'Content-Type: text/x-patch; name="0001.patch"',
        'Content-Transfer-Encoding: base64',
        '',
        wrapped,
        '--=-b1--',
      ].join('\n'),
    });
    // Act
    const [m] = one(text).messages;
    // Assert
    expect(m?.text).toBe(adds('snp_attached'));
    // Base64 lines of 76 characters hold 57 bytes: the line of `+}` is the one holding its first byte.
    const lines = m?.text.split('\n') ?? [];
    const i = lines.indexOf('+}');
    const offset = Buffer.byteLength(`${lines.slice(0, i).join('\n')}\n`);
    const first = text.split('\n').indexOf(wrapped.split('\n')[0] ?? '') + 1;
    expect(m === undefined ? 0 : inputLine(m, i)).toBe(first + Math.floor(offset / 57));
  });

  it('skips a multipart message without parts', () => {
    // Act
    const series = one(
      mail({
        subject: '[PATCH] x',
        headers: ['Content-Type: multipart/mixed; boundary=b'],
        body: 'no delimiter',
      }),
    );
    // Assert
    expect(series.skipped.map((s) => s.why)).toEqual(['multipart message without parts']);
  });
});

describe('readSeries: plain inputs', () => {
  it('reads an annotated patch or a bare diff as one message of the whole file, in the order given', () => {
    // Arrange
    const annotated = `snp-ref-flavour: v4\nKVM: SVM: the flow.\n\n${adds('a')}`;
    const bare = adds('b');
    // Act
    const series = readSeries([
      { name: 'z.patch', text: annotated },
      { name: 'a.diff', text: bare },
    ]);
    // Assert
    expect(series.messages).toEqual([
      { ref: { source: 'z.patch' }, text: annotated, firstLine: 1 },
      { ref: { source: 'a.diff' }, text: bare, firstLine: 1 },
    ]);
  });

  it('reads a single mail without an mbox From line (*.eml)', () => {
    // Arrange
    const text = mail({ subject: '[PATCH 1/1] KVM: one', body: adds('a') })
      .split('\n')
      .slice(1)
      .join('\n');
    // Act
    const [m] = one(text, 'one.eml').messages;
    // Assert
    expect(m?.ref.subject).toBe('KVM: one');
    expect(m?.firstLine).toBe(5);
  });
});

describe('readSeries: untrusted input', () => {
  it('refuses an input, a header or a message count over its limit, naming the input', () => {
    // Arrange
    const long = mail({ subject: `[PATCH] ${'x'.repeat(LIMITS.headerChars)}`, body: adds('a') });
    const many = patchMail('PATCH', 'x', 'a').repeat(LIMITS.messages + 1);
    const huge = ' '.repeat(LIMITS.inputChars + 1);
    // Act + Assert
    expect(() => one(long, 'long.mbox')).toThrow(
      new ConformInputError('long.mbox:4: header field subject longer than 65536 characters'),
    );
    expect(() => one(many, 'many.mbox')).toThrow(
      new ConformInputError('many.mbox: more than 10000 messages in the input'),
    );
    expect(() => one(huge, 'huge.mbox')).toThrow(new ConformInputError('huge.mbox: larger than 32 MiB'));
  });

  it('reads pathological lines in linear time', () => {
    // Arrange: each would take minutes with a backtracking regex that is not linear.
    const n = 50_000;
    const texts = [
      `${'>'.repeat(n)}x`,
      mail({ subject: `${'[PATCH '.repeat(n / 10)}`, body: adds('a') }),
      mail({ subject: `[PATCH] ${'=?a?q?'.repeat(n / 10)}`, body: adds('a') }),
      mail({
        subject: '[PATCH] x',
        headers: [`Content-Type: text/plain${';   '.repeat(n / 10)}`],
        body: adds('a'),
      }),
      `From x Mon Sep 17 00:00:00 2001\nSubject: [PATCH] x\n\n${'+'.repeat(n)}\n@@ -${'1'.repeat(n)}`,
    ];
    // Act
    const started = performance.now();
    for (const text of texts) one(text);
    // Assert
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('throws nothing but ConformInputError on any text, mail-like or not (property)', () => {
    const fragments = fc.constantFrom(
      'From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001',
      'From: =?utf-8?b?w7w=?= <a@b>',
      'Subject: [PATCH v2 1/3] x',
      'Subject: Re: [PATCH 0/3] x',
      'Subject: =?x-unknown?Q?=FF=ZZ?= =?utf-8?B?####?=',
      'Content-Type: multipart/mixed; boundary=b',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      'Content-Transfer-Encoding: base64',
      '--b',
      '--b--',
      '=C3=',
      'diff --git a/x b/x',
      '@@ -1,2 +1 @@',
      '',
      ' ',
      '>From x',
    );
    const texts = fc.oneof(
      fc
        .array(fc.oneof(fragments, fc.string({ unit: 'binary' })), { maxLength: 40 })
        .map((l) => l.join('\n')),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('utf8')),
    );
    fc.assert(
      fc.property(texts, (text) => {
        try {
          one(text);
        } catch (error) {
          if (!(error instanceof ConformInputError)) throw error;
        }
      }),
      { seed: 20_240_302, numRuns: 500 },
    );
  });
});

describe('readSeries: several inputs', () => {
  it('reads messages split into files as it reads them in one mbox (property)', () => {
    const message = fc.record({
      n: fc.integer({ min: 0, max: 5 }),
      version: fc.integer({ min: 1, max: 3 }),
      reply: fc.boolean(),
      diff: fc.boolean(),
      qp: fc.boolean(),
      name: fc.constantFrom('a', 'b', 'c'),
    });
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), (messages) => {
        const texts = messages.map((m) =>
          mail({
            subject: `${m.reply ? 'Re: ' : ''}[PATCH v${m.version} ${m.n}/5] KVM: ${m.name}`,
            headers: m.qp ? ['Content-Transfer-Encoding: quoted-printable'] : [],
            body: `KVM: ${m.name}=3D\n---\n${m.diff ? adds(m.name) : ''}`,
          }),
        );
        const normal = (series: Series) => ({
          messages: series.messages.map((m) => ({ ...m.ref, source: '', text: m.text.replace(/\n+$/, '') })),
          skipped: series.skipped.map((s) => [s.subject, s.why.replace(/ \(kept .*\)$/, '')]),
          missing: series.missing,
        });
        const split = readSeries(texts.map((text, i) => ({ name: `${i}.patch`, text })));
        const joined = one(texts.join(''));
        expect(normal(split)).toEqual(normal(joined));
      }),
      { seed: 0x5e71e5, numRuns: 200 },
    );
  });
});

describe('listInputFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'snp-series-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("lists a directory's patch and mail files by name, keeps files and - as given", () => {
    // Arrange
    for (const f of ['0002-b.patch', '0001-a.patch', 'notes.txt', 'thread.MBOX', 'x.eml', 'y.diff', 'z.mbx'])
      writeFileSync(join(dir, f), '');
    mkdirSync(join(dir, 'sub.patch'), { recursive: true });
    // Act
    const listed = listInputFiles([dir, '-', join(dir, 'notes.txt')]);
    // Assert
    expect(listed.map((f) => f.name)).toEqual([
      ...['0001-a.patch', '0002-b.patch', 'thread.MBOX', 'x.eml', 'y.diff', 'z.mbx'].map((f) => join(dir, f)),
      '<stdin>',
      join(dir, 'notes.txt'),
    ]);
    expect(listed.find((f) => f.name === '<stdin>')?.path).toBe('-');
  });

  it('names a path it cannot read', () => {
    expect(() => listInputFiles([join(dir, 'absent')])).toThrow(ConformInputError);
  });
});
