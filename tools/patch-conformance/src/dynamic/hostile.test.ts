import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conform } from '../conform.js';
import { recountHunks } from '../test/patchText.js';

const root = resolve(import.meta.dirname, '../../../..');
const reviewed = readFileSync(join(root, 'patches/reviewed.patch'), 'utf8');
const LAUNCH_BODY = '+\tint ret = 0;\n';
const work = mkdtempSync(join(tmpdir(), 'conform-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// snp-conform's build directories go to this worker's own TMPDIR (os.tmpdir() reads it at each
// call), so counting them is not disturbed by other test files building harnesses meanwhile.
const builds = join(work, 'tmp');
mkdirSync(builds);
process.env.TMPDIR = builds;
/** A file only the hostile patches name: its contents must never reach a report. */
const SECRET = join(work, 'secret.txt');
const TOKEN = 'never-in-a-report-7f3a';
writeFileSync(SECRET, `${TOKEN}\n`);

/** The reviewed patch with `line` added at the start of snp_launch_update's body, written to a temp file. */
function hostile(line: string, before = ''): string {
  const text = reviewed
    .replace(LAUNCH_BODY, `${LAUNCH_BODY}+\t${line}\n`)
    .replace('+/* @snp-ref kvm.snp_launch_update */', `${before}+/* @snp-ref kvm.snp_launch_update */`);
  const file = join(mkdtempSync(join(work, 'patch-')), 'hostile.patch');
  writeFileSync(file, recountHunks(text));
  return file;
}

const ourTempDirs = () => readdirSync(builds).filter((d) => d.startsWith('snp-conform-'));

async function dynamicReport(patch: string) {
  const report = await conform(root, patch, undefined, { dynamic: true });
  return { report, text: JSON.stringify(report) };
}

describe('the harness on hostile patches', () => {
  it('stops a launch update that loops forever at its CPU limit and runs no further scenario or failure path', async () => {
    const { report } = await dynamicReport(hostile('for (;;) ;'));

    expect(report.findings).toEqual([
      expect.objectContaining({
        rule: 'harness-timeout',
        message: expect.stringMatching(/^scenario 01-success: .*time limit; \d+ more run\(s\) not run$/),
      }),
    ]);
  }, 30_000);

  it('refuses an include of a file outside the kernel headers before any compiler reads it', async () => {
    const before = ourTempDirs();

    const { report, text } = await dynamicReport(hostile('', `+#include "${SECRET}"\n`));

    expect(report.findings.map((f) => f.rule)).toEqual(['harness-refused']);
    expect(report.findings[0]?.message).toContain(`#include of "${SECRET}"`);
    expect(report.findings[0]?.c?.line).toBeGreaterThan(0);
    expect(text).not.toContain(TOKEN);
    expect(ourTempDirs()).toEqual(before); // nothing was compiled
  });

  it.each([
    ['opens a file', `if (fopen("${SECRET}", "r")) return 1;`, ''],
    ['opens a socket', 'socket(2, 1, 0);', '+int socket(int, int, int);\n'],
    ['exits the process', 'exit(0);', ''],
    // A macro defined by the patch must not reach the harness's own code after it.
    [
      'opens a file after defining the sandbox away',
      `if (fopen("${SECRET}", "r")) return 1;`,
      '+#define snp_sandbox_enter(buf, size, cpu) 0\n',
    ],
  ])('ends the run of C that %s, in seccomp strict mode', async (_, line, before) => {
    const { report, text } = await dynamicReport(hostile(line, before));

    expect(report.findings).toEqual([
      expect.objectContaining({ rule: 'harness-sandbox', message: expect.stringContaining('forbids') }),
    ]);
    expect(text).not.toContain(TOKEN);
  });

  it('keeps a patch function named like a C library start-up hook from running at all', async () => {
    const pwned = join(work, 'pwned');
    const hook = `+int __libc_start_main(void)\n+{\n+\tfclose(fopen("${pwned}", "w"));\n+\treturn 0;\n+}\n`;

    const { report } = await dynamicReport(hostile('', hook));

    expect(existsSync(pwned)).toBe(false);
    expect(report.findings).toEqual([]);
  });

  it('screens the C again as reordered for the compiler: a spliced comment cannot become an include', async () => {
    const { report, text } = await dynamicReport(
      hostile('', `+static int x; // c \\\n+#include "${SECRET}"\n`),
    );

    expect(report.findings.map((f) => f.rule)).toEqual(['harness-refused']);
    expect(text).not.toContain(TOKEN);
  });

  it('sandboxes the upstream flow too: a guest_memfd populate callback that opens a file ends the run', async () => {
    const upstream = readFileSync(join(root, 'patches/upstream.patch'), 'utf8');
    const file = join(mkdtempSync(join(work, 'patch-')), 'hostile-upstream.patch');
    const body = '+\tint npages = 1 << order, n_private = 0, ret = 0, i;\n';
    writeFileSync(
      file,
      recountHunks(upstream.replace(body, `${body}+\tif (fopen("${SECRET}", "r")) return 1;\n`)),
    );

    const { report, text } = await dynamicReport(file);

    expect(report.findings.filter((f) => f.rule !== 'no-memslot-srcu')).toEqual([
      expect.objectContaining({ rule: 'harness-sandbox', message: expect.stringContaining('forbids') }),
    ]);
    expect(text).not.toContain(TOKEN);
  });

  it("reports, rather than crashes on, C that prints the harness's own end-of-run lines", async () => {
    const { report } = await dynamicReport(hostile('printf("end\\nend\\nend\\n");'));

    expect(report.findings.map((f) => f.rule)).toContain('dynamic-trace');
  });

  it('stops a run that floods its output', async () => {
    const { report } = await dynamicReport(hostile('for (;;) printf("flood flood flood\\n");'));

    expect(report.findings.map((f) => f.rule)).toEqual(['harness-output']);
  }, 30_000);

  it('reports a crash on the scenario where it happens', async () => {
    const { report } = await dynamicReport(hostile('if (sev->asid == 1) *(volatile int *)0 = 1;'));

    expect(report.findings[0]).toEqual(
      expect.objectContaining({ rule: 'harness-crash', message: expect.stringContaining('(SIGSEGV)') }),
    );
  });

  it('keeps every static finding when the harness cannot build the C', async () => {
    const v4 = readFileSync(join(root, 'patches/v4.patch'), 'utf8');
    const file = join(work, 'v4.patch');
    writeFileSync(file, recountHunks(v4.replace('+\tint ret', '+\tsnp_trace_launch(kvm);\n+\tint ret')));

    const { report } = await dynamicReport(file);

    const rules = new Set(report.findings.map((f) => f.rule));
    expect(rules).toContain('no-memslot-srcu');
    expect(rules).toContain('harness-build');
    expect(report.findings.find((f) => f.rule === 'harness-build')).toEqual({
      rule: 'harness-build',
      message: 'snp_trace_launch is used but neither the patch nor the shim declares it',
      c: { file: expect.stringMatching(/v4\.patch$/), line: 28 }, // where the call was added
      quote: '+\tsnp_trace_launch(kvm);',
    });
  });

  it('leaves no build directory behind', async () => {
    const before = ourTempDirs();

    await dynamicReport(join(root, 'patches/reviewed.patch'));

    expect(ourTempDirs()).toEqual(before);
  });
});
