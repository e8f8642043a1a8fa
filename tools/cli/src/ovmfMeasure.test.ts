import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOvmfImage, type SyntheticOvmfSpec } from '@snp-ref/psp-firmware/measure';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEBIAN_OVMF, writeSyntheticFiles } from '../scripts/reference-runs.js';
import { expectSameAsReference, readReferenceRuns } from './referenceRuns.js';
import { measureOvmfArgs, snpRef } from './snpRefRun.js';

const reference = readReferenceRuns('reference-runs.json');
/** The published case (packages/psp-firmware/test/vectors/ovmf/): sev-snp-measure on Debian's OVMF, step by step. */
const debianCase = JSON.parse(
  readFileSync(
    join(
      import.meta.dirname,
      '../../../packages/psp-firmware/test/vectors/ovmf/ovmf-fd-snp-1vcpu-epyc-v4.json',
    ),
    'utf8',
  ),
) as {
  command: string;
  stdout: string;
  ops: { op: string; gpa?: string; pages?: number; contents_sha384?: string }[];
};

const sha = (algorithm: string, bytes: Uint8Array) => createHash(algorithm).update(bytes).digest('hex');
let files: Record<string, string>;
let dir: string;

beforeAll(() => {
  if (!existsSync(DEBIAN_OVMF))
    throw new Error(`${DEBIAN_OVMF} is missing: install Debian's ovmf package (npm test does, as root)`);
  dir = mkdtempSync(join(tmpdir(), 'snp-ref-ovmf-'));
  files = { ...writeSyntheticFiles(dir), ...reference.substitutions };
});

describe('snp-ref measure --mode snp: the same answer as sev-snp-measure', () => {
  it("reproduces the published case on Debian's OVMF, op by op", async () => {
    expect(sha('sha256', readFileSync(DEBIAN_OVMF)), `${DEBIAN_OVMF} is not the image of the vector`).toBe(
      reference.files.debian,
    );
    const args = debianCase.command.split(' ').slice(1);
    expect((await snpRef(['measure', ...args])).stdout).toBe(`${debianCase.stdout}\n`);
    const plan = JSON.parse((await snpRef(['measure', ...args, '--dump-plan'])).stdout) as {
      ops: { op: string; gpa: string; pages?: number }[];
    };
    expect(plan.ops.map(({ op, gpa, pages }) => ({ op, gpa, pages: pages ?? 1 }))).toEqual(
      debianCase.ops
        .filter((o) => o.op !== 'vmsa')
        .map(({ op, gpa, pages }) => ({ op, gpa, pages: pages ?? 1 }))
        .concat([{ op: 'vmsa', gpa: '0xfffffffff000', pages: 1 }]),
    );
    const run = mkdtempSync(join(tmpdir(), 'snp-ref-vmsa-'));
    expect((await snpRef(['measure', ...args, '--dump-vmsa'], { cwd: run })).status).toBe(0);
    expect(sha('sha384', readFileSync(join(run, 'vmsa0.bin')))).toBe(debianCase.ops.at(-1)?.contents_sha384);
  });

  it.each(reference.runs.map((r) => [r.args.join(' '), r] as const))('%s', async (_, run) => {
    await expectSameAsReference(run, files);
  });

  it('explains every field of the VMSAs it measures: value and source, BSP and APs', async () => {
    const args = measureOvmfArgs(DEBIAN_OVMF, 3, 'EPYC-Milan');
    const text = (await snpRef([...args, '--explain-vmsa'])).stdout;
    expect(text).toMatch(/VMSA of vCPU 0 \(BSP, reset EIP 0xfffffff0\)/);
    expect(text).toMatch(/VMSA of vCPU 1-2 \(AP, reset EIP 0x80b004\)/);
    expect(text).toMatch(/rdx +0xa00f11 +.*vCPU type table: EPYC-Milan = family 25, model 1, stepping 1/);
    const explained = JSON.parse((await snpRef([...args, '--explain-vmsa', '--json'])).stdout) as {
      settings: { field: string; value: string }[];
    }[];
    const plan = JSON.parse((await snpRef([...args, '--dump-plan'])).stdout) as {
      ops: { op: string; vmsa?: Record<string, string> }[];
    };
    const measured = plan.ops.filter((o) => o.op === 'vmsa').map((o) => o.vmsa);
    const nonZero = (settings: { field: string; value: string }[]) =>
      Object.fromEntries(settings.filter((s) => s.value !== '0x0').map((s) => [s.field, s.value]));
    expect(measured).toEqual([
      nonZero(explained[0]?.settings ?? []),
      ...[1, 2].map(() => nonZero(explained[1]?.settings ?? [])),
    ]);
  });

  it('replays its own --dump-plan to the same digest', async () => {
    const args = ['--mode', 'snp', '--vcpus', '3', '--vcpu-type', 'EPYC-v4', '--ovmf', files.synthetic ?? ''];
    const withKernel = [...args, '--kernel', files.kernel ?? '', '--append', 'ro'];
    const plan = (await snpRef(['measure', ...withKernel, '--dump-plan'])).stdout;
    expect(plan).toContain('"bytes"');
    expect((await snpRef(['measure', '--plan', '-'], { stdin: plan })).stdout).toBe(
      (await snpRef(['measure', ...withKernel])).stdout,
    );
  });
});

describe('snp-ref measure --mode snp refuses what it cannot measure: exit 2, the flag or the image part named', () => {
  const debian = ['--mode', 'snp', '--ovmf', DEBIAN_OVMF];
  it.each([
    [
      ['--vcpus', '1', '--vcpu-type', 'EPYC-v9'],
      /--vcpu-type: unknown type "EPYC-v9"; expected one of EPYC, /,
    ],
    [['--vcpu-type', 'EPYC'], /--vcpus: missing --vcpus N/],
    [['--vcpus', '0', '--vcpu-type', 'EPYC'], /vcpus: expected at least 1, got 0/],
    [['--vcpus', '1'], /missing --vcpu-type or --vcpu-sig or --vcpu-family/],
    [['--vcpus', '1', '--vcpu-family', '25'], /--vcpu-model: required with --vcpu-family/],
    [['--vcpus', '1', '--vcpu-sig', 'twelve'], /--vcpu-sig: expected an integer/],
    [
      ['--vcpus', '1', '--vcpu-type', 'EPYC', '--guest-features', '0x10000000000000000'],
      /--guest-features: .*64 bits/,
    ],
    [['--vcpus', '1', '--vcpu-type', 'EPYC', '--vmm-type', 'xen'], /--vmm-type: unknown VMM type 'xen'/],
    [
      ['--vcpus', '1', '--vcpu-type', 'EPYC', '--initrd', '/dev/null'],
      /--kernel required when using --initrd/,
    ],
    [['--vcpus', '1', '--vcpu-type', 'EPYC', '--append', 'quiet'], /--kernel required when using --append/],
    [
      ['--vcpus', '1', '--vcpu-type', 'EPYC', '--kernel', '/nonexistent'],
      /--kernel: cannot read \/nonexistent \(ENOENT\)/,
    ],
    [
      ['--vcpus', '1', '--vcpu-type', 'EPYC', '--snp-ovmf-hash', 'abc'],
      /--snp-ovmf-hash: expected the 48-byte hash/,
    ],
    [
      ['--vcpus', '1', '--vcpu-type', 'EPYC', '--output-format', 'yaml'],
      /--output-format: expected hex or base64/,
    ],
  ])('%j', async (flags, message) => {
    const { status, stderr } = await snpRef(['measure', ...debian, ...flags]);
    expect(status).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('names an unknown mode and the flags that make no sense with --plan', async () => {
    expect((await snpRef(['measure', '--mode', 'tdx', '--ovmf', DEBIAN_OVMF])).stderr).toMatch(
      /--mode: "tdx" is not a guest mode; expected one of sev, seves, snp, snp:ovmf-hash, snp:svsm/,
    );
    expect((await snpRef(['measure', '--plan', '-', '--vcpus', '2'], { stdin: '{}' })).stderr).toMatch(
      /--vcpus: not used with --plan/,
    );
  });

  const good: SyntheticOvmfSpec = {
    seed: 'hostile',
    pages: 16,
    sections: [
      { gpa: 0x800000, size: 0x2000, type: 'SNP_SEC_MEM' },
      { gpa: 0x802000, size: 0x1000, type: 'SNP_SECRETS' },
    ],
    resetEip: 0xffff_f004,
  };
  let images = 0;
  const image = (edit: (bytes: Uint8Array) => Uint8Array) => {
    const path = join(dir, `edited-${images++}.fd`);
    writeFileSync(path, edit(buildOvmfImage(good)));
    return path;
  };
  it.each([
    [
      'a truncated image',
      (b: Uint8Array) => b.subarray(0, 3 * 4096 + 100),
      /image: size 12388 is not a non-zero multiple of 4096 bytes/,
    ],
    [
      'an image cut to whole pages',
      (b: Uint8Array) => b.subarray(0, 8 * 4096),
      /footer table: no OVMF footer table/,
    ],
    ['no footer table', (b: Uint8Array) => b.fill(0, b.length - 64), /footer table: no OVMF footer table/],
  ])('%s', async (_, edit, message) => {
    const { status, stderr } = await snpRef(measureOvmfArgs(image(edit), 1, 'EPYC'));
    expect(status).toBe(2);
    expect(stderr).toMatch(message);
  });

  it.each([
    [
      'bad metadata',
      { ...good, sections: [{ gpa: 0x800000, size: 0x1800, type: 'SNP_SEC_MEM' as const }] },
      /section 0 \(SNP_SEC_MEM 0x800000\+0x1800\): gpa and size must be/,
    ],
    [
      'overlapping sections',
      { ...good, sections: [...good.sections, { gpa: 0x801000, size: 0x1000, type: 'CPUID' as const }] },
      /section 2 \(CPUID 0x801000\+0x1000\): overlaps section 0 \(SNP_SEC_MEM 0x800000\+0x2000\)/,
    ],
    [
      'no SEV-ES reset block',
      { seed: good.seed, pages: good.pages, sections: good.sections },
      /no SEV-ES reset block/,
    ],
    [
      'a kernel but no hashes section',
      good,
      /Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section/,
    ],
  ])('%s', async (name, spec, message) => {
    const path = join(dir, `${name.replaceAll(' ', '-')}.fd`);
    writeFileSync(path, buildOvmfImage(spec));
    const kernel = name.startsWith('a kernel') ? ['--kernel', files.kernel ?? ''] : [];
    const { status, stderr } = await snpRef([...measureOvmfArgs(path, 1, 'EPYC'), ...kernel]);
    expect(status).toBe(2);
    expect(stderr).toMatch(message);
  });
});
