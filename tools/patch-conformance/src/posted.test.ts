// snp-conform on patches as they are posted: format-patch series, mbox files, no annotations. The
// series under test/series are patches/reviewed.patch and patches/v4.patch, annotations removed,
// split into four patches over a small base tree (written here), made with git format-patch.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePatch, readInputs } from './c/patch.js';
import { type ConformReport, conform, modelEntities } from './conform.js';
import { parseMapFile } from './pairing/mapFile.js';
import type { Finding } from './rules/rule.js';

const root = resolve(import.meta.dirname, '../../..');
const series = (name: string) => join(root, 'tools/patch-conformance/test/series', name);
const bin = join(root, 'tools/patch-conformance/bin/snp-conform.js');

/** The inputs as snp-conform reads them from the command line: one series. */
function posted(...names: string[]) {
  const paths = names.map(series);
  return parsePatch(
    readInputs(paths, (p) => p.slice(root.length + 1)),
    names.join(', '),
  );
}

/** What a finding says, wherever the input put the line: its rule, the line quoted, the message. */
const verdict = (f: Finding) =>
  `${f.rule} ${f.c === undefined ? 'TS' : 'C'} | ${f.quote?.trim() ?? ''} | ${f.message.replace(/line \d+/g, 'line N')}`;
const verdicts = (report: ConformReport) => report.findings.map(verdict).sort();

const annotated = (name: string, dynamic = false) =>
  conform(root, join(root, 'patches', name), undefined, { dynamic });

function snpConform(args: readonly string[], input?: string) {
  const run = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', input });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('a series as posted gets the verdict of the annotated patch it was split from', () => {
  it.each([
    ['the reviewed flow as four format-patch files', 'reviewed', 'reviewed.patch'],
    ['the reviewed flow as an mbox with a cover letter and a reply', 'reviewed.mbox', 'reviewed.patch'],
    [
      'a series whose last patch fixes the revert its third patch got wrong',
      'reviewed-fix',
      'reviewed.patch',
    ],
    ['the RFC v4 flow as four format-patch files', 'v4', 'v4.patch'],
    ['the RFC v4 flow as an mbox', 'v4.mbox', 'v4.patch'],
  ])('%s', async (_, input, patch) => {
    const report = await conform(root, posted(input), undefined, { dynamic: true });

    // The same findings in the C; the model's own (v4's) are left out of a posted series' report.
    const reference = await annotated(patch, true);
    expect(verdicts(report)).toEqual(
      verdicts({ ...reference, findings: reference.findings.filter((f) => f.c !== undefined) }),
    );
    expect(report.paired.every((p) => p.by === 'default map')).toBe(true);
  });

  it('pairs what the annotations pair, by the kernel names, and infers the flavour from the uAPI layout', async () => {
    const reviewed = await conform(root, posted('reviewed'));
    const v4 = await conform(root, posted('v4.mbox'));

    expect(reviewed.paired.map((p) => p.entity).sort()).toEqual(
      (await annotated('reviewed.patch')).paired.map((p) => p.entity).sort(),
    );
    expect(reviewed.flavour).toBe('reviewed');
    expect(reviewed.flavourFrom).toMatch(
      /^inferred: struct kvm_sev_snp_launch_update is laid out as the reviewed and upstream uAPI .*, and launch update does not use guest_memfd$/,
    );
    expect(v4.flavour).toBe('v4');
    expect(v4.paired.map((p) => `${p.entity}=${p.name}`).sort()).toEqual([
      'kvm.snp_launch_update=snp_launch_update',
      'uapi.kvm_sev_snp_launch_update=kvm_sev_snp_launch_update',
    ]);
  });

  it('reads the mbox as a reviewer does: the patches in order, the cover letter and the reply left out', async () => {
    const report = await conform(root, posted('v4.mbox'));

    expect(report.patches.map((p) => `${p.n}/${p.m} ${p.subject}`)).toEqual([
      '1/4 KVM: SVM: uAPI of KVM_SEV_SNP_LAUNCH_UPDATE',
      '2/4 KVM: SVM: add KVM_SEV_SNP_LAUNCH_UPDATE command',
      '3/4 KVM: SVM: reset the RMP entries of the range on failure',
      '4/4 KVM: SEV: wire KVM_SEV_SNP_LAUNCH_UPDATE into the SEV ioctl',
    ]);
    expect(report.patches[0]?.from).toBe('Ada Reviewer <ada@example.org>');
    expect(report.skipped.map((s) => s.why)).toEqual([
      expect.stringMatching(/cover/),
      expect.stringMatching(/repl/),
    ]);
  });

  it('locates each finding in the patch that added the line: the whole-range reset is in 3/4', async () => {
    const report = await conform(root, posted('v4'));

    const reset = report.findings.find((f) => f.rule === 'revert-only-touched' && f.c !== undefined);
    expect(reset?.c?.patch?.n).toBe(3);
    expect(reset?.c?.file).toMatch(/^tools\/patch-conformance\/test\/series\/v4\/0003-/);
    const text = readFileSync(join(root, reset?.c?.file ?? ''), 'utf8').split('\n');
    expect(reset?.quote).toBe(text[(reset?.c?.line ?? 0) - 1]);
    expect(reset?.quote).toMatch(/^\+\tfor \(i = 0; i < npages; i\+\+\)$/);
  });
});

describe('pairing a series that names things otherwise', () => {
  it('says what it could not pair and how to map it', async () => {
    const report = await conform(root, posted('renamed.mbox'));

    expect(report.paired).toEqual([]);
    expect(report.findings).toEqual([]);
    const launch = report.unpaired.find((u) => u.entity === 'kvm.snp_launch_update');
    expect(launch?.why).toMatch(/no snp_launch_update\(\).*"kvm\.snp_launch_update <name>".*--map FILE/);
  });

  it('with a map file, gives the verdicts the kernel names give', async () => {
    const file = series('renamed.map');
    const map = { file, entries: parseMapFile(readFileSync(file, 'utf8'), file, modelEntities(root)) };

    const report = await conform(root, posted('renamed.mbox'), undefined, { map, dynamic: true });

    expect(report.paired.map((p) => p.by)).toEqual(Array(5).fill('map file'));
    expect(verdicts(report)).toEqual(verdicts(await annotated('reviewed.patch', true)));
  });

  it('refuses a map line naming an entity the model does not have, with its line', () => {
    expect(() =>
      parseMapFile('# ok\nkvm.launch_upd snp_launch_update\n', 'my.map', modelEntities(root)),
    ).toThrow(/^my\.map:2: unknown entity "kvm\.launch_upd"/);
  });
});

describe('hunks that do not apply', () => {
  it('are findings naming the patch and the hunk; the rest of the series is still checked', async () => {
    const patch = readFileSync(
      series('v4/0003-KVM-SVM-reset-the-RMP-entries-of-the-range-on-failur.patch'),
      'utf8',
    );
    const stale = patch.replace(
      '-\t\t\tgoto e_unlock;\n+\t\t\tgoto e_purge;\n \t\t}\n \t\tgfn',
      '-\t\t\tgoto out;\n+\t\t\tgoto e_purge;\n \t\t}\n \t\tgfn',
    );
    expect(stale).not.toBe(patch);
    const inputs = [
      ...readInputs([series('v4')], (p) => p).filter((i) => !i.name.includes('0003-')),
      { name: 'stale-3.patch', text: stale },
    ];

    const report = await conform(root, parsePatch(inputs, 'v4 with a stale 3/4'));

    const failure = report.findings.find((f) => f.rule === 'series-apply');
    expect(failure?.c?.patch?.n).toBe(3);
    expect(failure?.message).toMatch(/arch\/x86\/kvm\/svm\/sev\.c: hunk @@ -38,7 \+38,7 @@.* does not apply/);
    expect(report.findings.some((f) => f.rule === 'no-memslot-srcu')).toBe(true);
  });
});

describe('the snp-conform command line on a posted series', () => {
  it('reads like a review reply: the line quoted, the patch named, the review point said once', () => {
    const run = snpConform(['--static-only', 'tools/patch-conformance/test/series/v4']);

    expect(run.status).toBe(1);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^tools\/patch-conformance\/test\/series\/v4: 4 patches, flavour v4 \(inferred: /,
    );
    const at = lines.findIndex(
      (l) => l.startsWith('  [RFC PATCH v4 3/4] KVM: SVM: reset the RMP entries') && l.endsWith(':'),
    );
    expect(lines[at + 1]).toBe('  > +\tfor (i = 0; i < npages; i++)');
    expect(lines.filter((l) => /^ {2}why: Review point 6/.test(l)).length).toBeGreaterThan(0);
    expect(new Set(lines.filter((l) => l.startsWith('  why: '))).size).toBe(
      lines.filter((l) => l.startsWith('  why: ')).length,
    );
  });

  it('takes an mbox on stdin, and a flavour and a map file as options', () => {
    const mbox = readFileSync(series('renamed.mbox'), 'utf8');

    const run = snpConform(
      [
        '--static-only',
        '--format=json',
        '--map',
        'tools/patch-conformance/test/series/renamed.map',
        '--flavour',
        'reviewed',
        '-',
      ],
      mbox,
    );

    expect(run.status).toBe(0);
    const [report] = JSON.parse(run.stdout) as ConformReport[];
    expect(report?.flavourFrom).toBe('--flavour');
    expect(report?.paired).toHaveLength(5);
  });

  it('refuses a bad flavour and a map file with a bad line: exit 2, named, no stack trace', () => {
    for (const [args, message] of [
      [['--flavour', 'v5', 'patches/v4.patch'], /--flavour: expected reviewed, v4, upstream, got v5/],
      [
        ['--map', 'patches/v4.patch', 'patches/v4.patch'],
        /^snp-conform: patches\/v4\.patch:1: unknown entity/,
      ],
    ] as const) {
      const run = snpConform(args);

      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('snp-conform --format summary', () => {
  it('prints one line per rule with its count, where it first fires in the patch, and its review point', () => {
    const run = snpConform([
      '--static-only',
      '--format',
      'summary',
      'tools/patch-conformance/test/series/v4.mbox',
    ]);

    expect(run.status).toBe(1);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(
      'tools/patch-conformance/test/series/v4.mbox: flavour v4, 2 entities paired, 5 findings in 5 rules',
    );
    expect(lines).toContain(
      '  revert-only-touched: 1 in the patch, first at [RFC PATCH v4 3/4] KVM: SVM: reset the RMP entries of the range on failure, tools/patch-conformance/test/series/v4.mbox:219',
    );
    expect(lines).toContain(
      '    Review point 6: on failure only the RMP entries this call changed are reset, not the whole range.',
    );
  });
});

describe('a series read from an mbox in any order', () => {
  it('gives the same report whatever order its messages come in (fast-check, seed printed on failure)', async () => {
    const messages = readFileSync(series('v4.mbox'), 'utf8')
      .split(/\n(?=From \S+ \w{3} \w{3} [ \d]\d )/)
      .map((m) => `${m.trimEnd()}\n`);
    expect(messages).toHaveLength(6); // cover letter, four patches, one reply
    const inOrder = await conform(root, posted('v4.mbox'));

    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(messages, { minLength: messages.length }), async (shuffled) => {
        const report = await conform(
          root,
          parsePatch([{ name: 'shuffled.mbox', text: shuffled.join('\n') }], 'shuffled.mbox'),
        );

        expect(verdicts(report)).toEqual(verdicts(inOrder));
        expect(report.patches.map((p) => p.n)).toEqual([1, 2, 3, 4]);
      }),
      { numRuns: 8, seed: 19 },
    );
  });
});
