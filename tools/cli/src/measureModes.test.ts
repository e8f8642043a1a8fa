// `snp-ref measure --mode sev|seves|snp:svsm`: sev-snp-measure's recorded runs over every flag of
// these modes (test/reference-runs-modes.json) replayed, and the views beyond it (--log, --json,
// --explain-vmsa, --dump-plan), which say so where a SEV launch has no PAGE_INFO chain (diff of
// SEV logs: diff/sevDiff.test.ts).
import { existsSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOvmfImage } from '@snp-ref/psp-firmware/measure';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEBIAN_OVMF, FIXTURE_NAMES, writeSyntheticFiles } from '../scripts/reference-runs.js';
import { SEV_SNP_MEASURE_FIXTURES } from '../test/vectors.js';
import { expectSameAsReference, readReferenceRuns, sha256Files } from './referenceRuns.js';
import { snpRef } from './snpRefRun.js';

const reference = readReferenceRuns('reference-runs-modes.json');
const fixture = (name: string) => join(SEV_SNP_MEASURE_FIXTURES, name);
const AMD_SEV = fixture(FIXTURE_NAMES.amdSev);
const SVSM = [
  '--mode',
  'snp:svsm',
  '--ovmf',
  fixture(FIXTURE_NAMES.svsmOvmf),
  '--svsm',
  fixture(FIXTURE_NAMES.svsm),
];
/** One EPYC vCPU of the SVSM; the rest of the flags in each test. */
const SVSM1 = [...SVSM, '--vcpus', '1', '--vcpu-type', 'EPYC'];
const SEVES = ['--mode', 'seves', '--vcpus', '2', '--vcpu-type', 'EPYC-v4', '--ovmf', AMD_SEV];

/** Where snp-ref's message is not sev-snp-measure's (a typo there). */
const REWORDED = {
  '--dump-vmsa is not availibe in the selected mode': /--dump-vmsa: not available in guest mode 'sev'/,
};

let files: Record<string, string>;
let dir: string;

beforeAll(() => {
  if (!existsSync(DEBIAN_OVMF)) throw new Error(`${DEBIAN_OVMF} is missing: install Debian's ovmf package`);
  dir = mkdtempSync(join(tmpdir(), 'snp-ref-modes-'));
  files = { ...writeSyntheticFiles(dir), ...reference.substitutions };
  for (const [key, name] of Object.entries(FIXTURE_NAMES)) files[key] = fixture(name);
});

describe('snp-ref measure --mode sev|seves|snp:svsm: the same answers as sev-snp-measure', () => {
  it('runs on the files the reference ran on', () => {
    expect(sha256Files(files, Object.keys(reference.files))).toEqual(reference.files);
  });

  it.each(reference.runs.map((r) => [r.args.join(' '), r] as const))('%s', async (_, run) => {
    await expectSameAsReference(run, files, REWORDED);
  });

  it('names the flags a mode does not measure, as sev-snp-measure silently ignores them', async () => {
    const { status, stderr } = await snpRef([
      'measure',
      ...SVSM1,
      '--vars-size',
      '4096',
      '--guest-features',
      '0x21',
    ]);
    expect(status).toBe(0);
    expect(stderr).toBe(
      "note: --guest-features is not measured in guest mode 'snp:svsm' (as in sev-snp-measure)\n",
    );
  });
});

describe('the views of a SEV or SEV-ES launch: regions under one SHA-256', () => {
  it('--log lists each region with its SHA-256 and the digest once it is in, ending at the launch digest', async () => {
    const digest = (await snpRef(['measure', ...SEVES, '--kernel', '/dev/null'])).stdout.trim();
    const { stdout } = await snpRef(['measure', ...SEVES, '--kernel', '/dev/null', '--log']);
    const lines = stdout
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { kind: string; gpa?: string; vcpu?: number; digest: string; vmsa?: object },
      );
    expect(lines.map((l) => [l.kind, l.gpa ?? l.vcpu])).toEqual([
      ['firmware', '0xfffff000'],
      ['hashes-table', '0x810c00'],
      ['vmsa', 0],
      ['vmsa', 1],
    ]);
    expect(lines.at(-1)?.digest).toBe(digest);
    expect(lines[2]?.vmsa).toMatchObject({ 'cs.selector': '0xf000', rdx: '0x800f12' });
    const table = (await snpRef(['measure', ...SEVES, '--log', '--format', 'table'])).stdout;
    expect(table).toMatch(/^ step +region +gpa +bytes +sha256 +digest after\n/);
    expect(table).toMatch(/vmsa 1 +4096 /);
  });

  it('--json: the digest after each region, and why there are no pages', async () => {
    const json = JSON.parse((await snpRef(['measure', '--mode', 'sev', '--ovmf', AMD_SEV, '--json'])).stdout);
    expect(json).toMatchObject({
      mode: 'sev',
      digest: '8f765dfabc127fc0a938a0744a3103ec15864d7d794eb4c398aa976b6d6ab16c',
      note: expect.stringMatching(/not a PAGE_INFO chain/),
      steps: [{ kind: 'firmware', gpa: '0xfffff000', bytes: 4096 }],
    });
  });

  it('--explain-vmsa: SEV-ES VMSAs carry SEV_FEATURES 0 whatever --guest-features says; SEV has none', async () => {
    const text = (await snpRef(['measure', ...SEVES, '--guest-features', '0x21', '--explain-vmsa'])).stdout;
    expect(text).toMatch(/VMSA of vCPU 1 \(AP, reset EIP 0x80b004\)/);
    expect(text).toMatch(/sev_features +0x0 +SEV-ES: 0 whatever --guest-features says/);
    const sev = await snpRef(['measure', '--mode', 'sev', '--ovmf', AMD_SEV, '--explain-vmsa']);
    expect(sev.stdout).toBe('no VMSA in this launch: SEV encrypts no vCPU state (SEV-ES and SNP do)\n');
  });

  it('--dump-plan is refused: a plan is a PAGE_INFO chain', async () => {
    const { status, stderr } = await snpRef(['measure', ...SEVES, '--dump-plan']);
    expect(status).toBe(2);
    expect(stderr).toMatch(/--dump-plan: a plan is a PAGE_INFO chain; SEV and SEV-ES measure one SHA-256/);
  });

  it('refuses an image larger than 4 GiB before reading it', async () => {
    const huge = join(dir, 'huge.fd');
    writeFileSync(huge, '');
    truncateSync(huge, 2 ** 32 + 4096);
    const { status, stderr } = await snpRef(['measure', '--mode', 'sev', '--ovmf', huge]);
    expect(status).toBe(2);
    expect(stderr).toMatch(/--ovmf: .*huge\.fd is 4294971392 bytes; a firmware image must fit below 4 GiB/);
  });

  it('an old OVMF without a footer table measures as SEV (nothing of it is read), not as SEV-ES', async () => {
    const path = join(dir, 'no-footer.fd');
    writeFileSync(path, new Uint8Array(8192).fill(0x5a));
    expect((await snpRef(['measure', '--mode', 'sev', '--ovmf', path])).status).toBe(0);
    const seves = await snpRef(['measure', ...SEVES.slice(0, -1), path]);
    expect(seves.status).toBe(2);
    expect(seves.stderr).toMatch(/footer table: no OVMF footer table/);
  });
});

describe('snp:svsm: a PAGE_INFO chain like snp, so every view applies', () => {
  const svsm2 = [...SVSM, '--vcpus', '2', '--vcpu-type', 'EPYC-v4', '--vars-size', '540672'];
  it('--dump-plan replays to the same digest, OVMF then the SVSM below OVMF_VARS', async () => {
    const plan = (await snpRef(['measure', ...svsm2, '--dump-plan'])).stdout;
    const ops = (JSON.parse(plan) as { ops: { op: string; gpa: string }[] }).ops;
    expect(ops.slice(0, 2).map((o) => o.gpa)).toEqual(['0xffc84000', '0xffaea000']);
    expect((await snpRef(['measure', '--plan', '-'], { stdin: plan })).stdout).toBe(
      '9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7\n',
    );
  });

  it('--explain-vmsa: one VMSA for every vCPU, at the SVSM entry', async () => {
    const text = (await snpRef(['measure', ...svsm2, '--explain-vmsa'])).stdout;
    expect(text).toMatch(/^VMSA of vCPU 0-1 \(SVSM, every vCPU, reset EIP 0xffaea000\)/);
    expect(text).toMatch(/rip +0xffaea000 +Coconut SVSM/);
    expect(text).toMatch(/x87_fcw +0x0 +.*not a field of its save area/);
  });

  it('diff of two logs names the VMSA fields that differ', async () => {
    const a = join(dir, 'svsm-a.jsonl');
    const b = join(dir, 'svsm-b.jsonl');
    await snpRef(['measure', ...svsm2, '--log', a]);
    await snpRef([
      'measure',
      ...svsm2.slice(0, -4),
      '--vcpu-type',
      'EPYC-Milan',
      '--vars-size',
      '540672',
      '--log',
      b,
    ]);
    const { status, stdout } = await snpRef(['diff', a, b]);
    expect(status).toBe(1);
    expect(stdout).toMatch(/rdx +0x800f12 → 0xa00f11/);
  });

  it.each([
    [['--vars-size', '4097'], /vars size: expected a multiple of 4096 bytes/],
    [['--vars-size', '4294967296'], /--vars-size: expected an integer of at most 32 bits/],
    [['--vars-size', '4292870144'], /vars size: 4292870144 bytes do not fit below OVMF/],
    [['--vars-file', '/nonexistent'], /--vars-file: cannot read \/nonexistent \(ENOENT\)/],
  ])('refuses %j: exit 2, the problem named', async (flags, message) => {
    const { status, stderr } = await snpRef(['measure', ...SVSM1, ...flags]);
    expect(status).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses an image without an SVSM info entry as the SVSM', async () => {
    const notSvsm = join(dir, 'not-svsm.bin');
    writeFileSync(notSvsm, buildOvmfImage({ seed: 'x', pages: 4, sections: [], resetEip: 0xfffff004 }));
    const flags = ['--vcpus', '1', '--vcpu-type', 'EPYC', '--vars-size', '4096'];
    const { status, stderr } = await snpRef(['measure', ...SVSM.slice(0, -1), notSvsm, ...flags]);
    expect(status).toBe(2);
    expect(stderr).toMatch(
      /SVSM footer table: no SVSM info entry \(GUID a789a612-.*\): not a Coconut SVSM image/,
    );
  });
});
