// Regenerates test/reference-runs.json (mode snp) and test/reference-runs-modes.json (sev, seves,
// snp:svsm: scripts/mode-runs.ts) by running virtee/sev-snp-measure (not part of this repository)
// on Debian's OVMF, on synthetic files (a firmware with every metadata section type, a kernel, an
// initrd, a variable store) and on the fixtures of its own test suite:
//   SEV_SNP_MEASURE=/path/to/sev-snp-measure.py node --conditions=@snp-ref/source --import tsx tools/cli/scripts/reference-runs.ts
// Only the commands and what the reference printed are recorded; the tests rebuild the files.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildOvmfImage, type SyntheticOvmfSpec, seededBytes } from '@snp-ref/psp-firmware/measure';
import { MODE_RUNS } from './mode-runs.js';

export const DEBIAN_OVMF = '/usr/share/ovmf/OVMF.fd';

/** The synthetic firmware: every section type, a kernel hashes table inside its page. */
const SYNTHETIC_OVMF: SyntheticOvmfSpec = {
  seed: 'snp-ref synthetic ovmf',
  pages: 256,
  sections: [
    { gpa: 0x800000, size: 0x6000, type: 'SNP_SEC_MEM' },
    { gpa: 0x806000, size: 0x1000, type: 'SNP_SECRETS' },
    { gpa: 0x807000, size: 0x1000, type: 'CPUID' },
    { gpa: 0x808000, size: 0x1000, type: 'SVSM_CAA' },
    { gpa: 0x809000, size: 0x1000, type: 'SNP_KERNEL_HASHES' },
    { gpa: 0x80a000, size: 0x3000, type: 'SNP_SEC_MEM' },
  ],
  resetEip: 0xffffe004,
  hashesTableGpa: 0x809c00,
};

/** The files the runs name as {synthetic}, {kernel}, {initrd} and {vars}, written into `dir`. */
export function writeSyntheticFiles(dir: string): Record<string, string> {
  const files = {
    synthetic: [join(dir, 'synthetic.fd'), buildOvmfImage(SYNTHETIC_OVMF)],
    kernel: [join(dir, 'vmlinuz'), seededBytes('snp-ref kernel', 300_001)],
    initrd: [join(dir, 'initrd.img'), seededBytes('snp-ref initrd', 70_000)],
    vars: [join(dir, 'OVMF_VARS.fd'), seededBytes('snp-ref vars', 540_672)],
  } as const;
  for (const [path, bytes] of Object.values(files)) writeFileSync(path, bytes);
  return {
    debian: DEBIAN_OVMF,
    ...Object.fromEntries(Object.entries(files).map(([k, [path]]) => [k, path])),
  };
}

export const expand = (args: readonly string[], files: Record<string, string>) =>
  args.map((a) => a.replace(/\{(\w+)\}/g, (_, name: string) => files[name] ?? `{${name}}`));

const RUNS: readonly (readonly string[])[] = [
  ['--mode', 'snp', '--vcpus', '4', '--vcpu-type', 'EPYC-v4', '--ovmf', '{debian}'],
  ['--mode', 'snp', '--vcpus', '2', '--vcpu-type', 'EPYC-Milan', '--vmm-type', 'ec2', '--ovmf', '{debian}'],
  ['--mode', 'snp', '--vcpus', '3', '--vcpu-type', 'EPYC-Genoa', '--vmm-type', 'gce', '--ovmf', '{debian}'],
  [
    '--mode',
    'snp',
    '--vcpus',
    '2',
    '--vcpu-sig',
    '0xa00f11',
    '--guest-features',
    '0x21',
    '--ovmf',
    '{debian}',
  ],
  [
    '--mode',
    'snp',
    '--vcpus',
    '1',
    '--vcpu-family',
    '25',
    '--vcpu-model',
    '17',
    '--vcpu-stepping',
    '1',
    '--output-format',
    'base64',
    '--ovmf',
    '{debian}',
  ],
  ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC-Rome', '--ovmf', '{debian}', '-v'],
  ['--mode', 'snp:ovmf-hash', '--ovmf', '{debian}'],
  [
    '--mode',
    'snp',
    '--vcpus',
    '2',
    '--vcpu-type',
    'EPYC-v4',
    '--ovmf',
    '{debian}',
    '--snp-ovmf-hash',
    '{debianOvmfHash}',
  ],
  ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--ovmf', '{debian}', '--kernel', '{kernel}'],
  ['--mode', 'snp', '--vcpus', '2', '--vcpu-type', 'EPYC-v4', '--ovmf', '{synthetic}'],
  [
    '--mode',
    'snp',
    '--vcpus',
    '2',
    '--vcpu-type',
    'EPYC-v4',
    '--ovmf',
    '{synthetic}',
    '--kernel',
    '{kernel}',
  ],
  [
    '--mode',
    'snp',
    '--vcpus',
    '2',
    '--vcpu-type',
    'EPYC-v4',
    '--ovmf',
    '{synthetic}',
    '--kernel',
    '{kernel}',
    '--initrd',
    '{initrd}',
    '--append',
    'console=ttyS0 root=/dev/vda1 é',
  ],
  [
    '--mode',
    'snp',
    '--vcpus',
    '4',
    '--vcpu-type',
    'EPYC-Turin',
    '--vmm-type',
    'ec2',
    '--ovmf',
    '{synthetic}',
    '--kernel',
    '{kernel}',
    '--append',
    'quiet',
  ],
  [
    '--mode',
    'snp',
    '--vcpus',
    '2',
    '--vcpu-type',
    'EPYC-Genoa',
    '--vmm-type',
    'gce',
    '--guest-features',
    '0x1',
    '--ovmf',
    '{synthetic}',
  ],
];

/** Runs sev-snp-measure on one command line in a fresh directory: its exit status, output and the VMSA files it wrote. */
export function runner(script: string, files: Record<string, string>) {
  return (args: readonly string[]) => {
    const cwd = mkdtempSync(join(tmpdir(), 'snp-ref-run-'));
    const dumped = () => {
      const vmsas = readdirSync(cwd).sort();
      return vmsas.length === 0
        ? {}
        : { dumped: Object.fromEntries(vmsas.map((f) => [f, sha256(join(cwd, f))])) };
    };
    try {
      const stdout = execFileSync('python3', [script, ...expand(args, files)], {
        cwd,
        encoding: 'utf8',
        stdio: 'pipe',
      });
      return { rc: 0, stdout, ...dumped() };
    } catch (error) {
      const e = error as { status: number; stdout: string; stderr: string };
      return { rc: e.status, stdout: e.stdout, stderr: e.stderr.trim().split('\n').at(-1) };
    }
  };
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const REFERENCE =
  'virtee/sev-snp-measure 0.0.13 (commit 8f2b337), run by tools/cli/scripts/reference-runs.ts';

/** Writes test/`file`: what ran, the SHA-256 of the files it ran on (`keys` of `files`), and `out`. */
export function write(
  file: string,
  files: Record<string, string>,
  keys: readonly string[],
  out: object,
  reference = REFERENCE,
): void {
  const recorded = {
    reference,
    files: Object.fromEntries(keys.map((k) => [k, sha256(files[k] ?? k)])),
    ...out,
  };
  writeFileSync(join(import.meta.dirname, '../test', file), `${JSON.stringify(recorded, null, 2)}\n`);
}

/** sev-snp-measure's test fixtures, from the checkout SEV_SNP_MEASURE is in. */
export const FIXTURE_NAMES = {
  amdSev: 'ovmf_AmdSev_suffix.bin',
  ovmfX64: 'ovmf_OvmfX64_suffix.bin',
  svsmOvmf: 'svsm_ovmf.fd',
  svsm: 'svsm.bin',
} as const;

function main(): void {
  const script = process.env.SEV_SNP_MEASURE;
  if (script === undefined) throw new Error('set SEV_SNP_MEASURE to the path of sev-snp-measure.py');
  const files = writeSyntheticFiles(mkdtempSync(join(tmpdir(), 'snp-ref-ovmf-')));
  const run = runner(script, files);
  files.debianOvmfHash = run(['--mode', 'snp:ovmf-hash', '--ovmf', '{debian}']).stdout.trim();
  const substitutions = { debianOvmfHash: files.debianOvmfHash };
  write('reference-runs.json', files, ['debian', 'synthetic', 'kernel', 'initrd'], {
    substitutions,
    runs: RUNS.map((args) => ({ args, ...run(args) })),
  });
  for (const [key, name] of Object.entries(FIXTURE_NAMES))
    files[key] = join(dirname(script), 'tests/fixtures', name);
  write(
    'reference-runs-modes.json',
    files,
    [...Object.keys(files)].filter((k) => k !== 'debianOvmfHash'),
    {
      substitutions,
      runs: MODE_RUNS.map((args) => ({ args, ...run(args) })),
    },
  );
}

if (process.argv[1] === import.meta.filename) main();
