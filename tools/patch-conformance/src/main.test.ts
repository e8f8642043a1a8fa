import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sevPatchText } from './test/patchText.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'tools/patch-conformance/bin/snp-conform.js');

/** snp-conform as a user runs it from the repository root. */
function snpConform(args: readonly string[], input?: string) {
  const run = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', input });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('the snp-conform command line', () => {
  it('checks every patches/*.patch when no patch is named', () => {
    const run = snpConform(['--static-only', '--format=json']);

    expect(run.status).toBe(1); // v4 has findings
    expect(JSON.parse(run.stdout).map((r: { patch: string }) => r.patch)).toEqual([
      'patches/reviewed.patch',
      'patches/upstream.patch',
      'patches/v4.patch',
    ]);
  });

  it('reads a patch from stdin for -', () => {
    const patch = readFileSync(join(root, 'patches/reviewed.patch'), 'utf8');

    const run = snpConform(['--static-only', '-'], patch);

    expect(run.status).toBe(0);
    expect(run.stdout.split('\n')).toEqual([
      "<stdin>: flavour reviewed (the patch's flavour line)",
      '  paired by annotation: uapi.kvm_sev_snp_launch_update = struct kvm_sev_snp_launch_update, virt.rmpupdate = rmpupdate(), virt.reset_to_hypervisor = rmp_reset_to_hypervisor(), kvm.revert_touched = snp_revert_touched(), kvm.snp_launch_update = snp_launch_update()',
      '  0 findings in 0 rules',
      '',
    ]);
  });

  it('prints its version', () => {
    const { version } = JSON.parse(readFileSync(join(root, 'tools/patch-conformance/package.json'), 'utf8'));

    expect(snpConform(['--version'])).toMatchObject({ status: 0, stdout: `snp-conform ${version}\n` });
  });

  it('refuses an unknown option and an unknown format with exit 2 and the usage, no stack trace', () => {
    for (const args of [['--bogus'], ['--format', 'yaml', 'patches/v4.patch']]) {
      const run = snpConform(args);

      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/^snp-conform: /);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses C nested past what it analyses with exit 2 and the line, not a stack overflow', () => {
    // 20,000 nested blocks: the analysis walks trees recursively and would overflow the stack.
    const body = `\t${'{'.repeat(20_000)}x++;${'}'.repeat(20_000)}`;
    const code = ['int f(int x)', '{', '\tx = 1;', body, '\treturn x;', '}'];
    const run = snpConform(['--static-only', '-'], sevPatchText(code));

    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /^snp-conform: <stdin>:8: the C added to arch\/x86\/kvm\/svm\/sev\.c nests more than 1024 syntax levels deep here/,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('groups findings per rule, with the rationale once and a count', () => {
    const run = snpConform(['--static-only', 'patches/v4.patch']);

    const lines = run.stdout.split('\n');
    const group = lines.indexOf('no-memslot-srcu: 4 findings');
    const why = lines[group + 1] ?? '';
    expect(why).toMatch(/^ {2}why: Review point 1: /);
    expect(lines.filter((l) => l === why)).toHaveLength(1);
    const next = lines.findIndex((l, i) => i > group && /^\S/.test(l));
    expect(
      lines.slice(group, next).filter((l) => /^ {2}(patches\/v4\.patch:\d+:|in the model, )/.test(l)),
    ).toHaveLength(4);
  });
});
