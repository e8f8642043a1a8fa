import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCertificates } from '@snp-ref/attestation';
import { describe, expect, it } from 'vitest';
import {
  REPORT_VECTORS,
  type ReportVector,
  readVector,
  vectorPath,
} from '../../../../packages/attestation/test/vectors.js';
import { snpRef } from '../snpRefRun.js';

const dir = mkdtempSync(join(tmpdir(), 'snp-ref-report-'));
const file = (name: string, bytes: Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
const trust = (v: ReportVector) => [
  v.signer === 'VCEK' ? '--vcek' : '--vlek',
  vectorPath(v.vek),
  '--ca',
  vectorPath(v.chain),
];
const verify = async (report: string, args: readonly string[]) => {
  const run = await snpRef(['report', 'verify', report, ...args, '--json']);
  const { ok, checks } = JSON.parse(run.stdout || '{}') as {
    ok: boolean;
    checks: { id: string; ok: boolean }[];
  };
  return { ...run, ok, failed: (checks ?? []).filter((c) => !c.ok).map((c) => c.id) };
};
const milan = REPORT_VECTORS[0] as ReportVector;
const vlek = REPORT_VECTORS.find((v) => v.signer === 'VLEK') as ReportVector;

describe('snp-ref report show', () => {
  it.each(REPORT_VECTORS)('names every field of $report', async (v) => {
    const run = await snpRef(['report', 'show', vectorPath(v.report), '--json']);
    expect(run.status).toBe(0);
    const shown = JSON.parse(run.stdout);
    expect(shown.version).toBe(v.version);
    expect(shown.reservedSet).toEqual([]);
    const names = shown.fields.map((f: { name: string }) => f.name);
    expect(names).toContain('MEASUREMENT');
    expect(names.includes('CPUID_FAM_ID')).toBe(v.version >= 3);
    expect(names.includes('LAUNCH_MIT_VECTOR')).toBe(v.version >= 5);
    if (v.version >= 3) expect(shown.product.name).toBe(v.product);
  });

  it('prints the TCB split of the generation, and the signing key, as text', async () => {
    const run = await snpRef(['report', 'show', vectorPath('oak/turin_oc.report.bin')]);
    expect(run.stdout).toContain(
      'attestation report version 5 (binary), Turin (from CPUID_FAM_ID, CPUID_MOD_ID)',
    );
    expect(run.stdout).toMatch(
      /0x180 REPORTED_TCB +0x4700000002000100 {2}\(fmc 0, bl 1, tee 0, snp 2, ucode 71\)/,
    );
    const vlekShown = await snpRef(['report', 'show', vectorPath(vlek.report)]);
    expect(vlekShown.stdout).toContain('SIGNING_KEY VLEK');
  });

  it('reads a binary report from stdin with -', async () => {
    const run = await snpRef(['report', 'show', '-', '--json'], { stdin: readVector(milan.report) });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).container).toBe('binary');
  });

  it('shows a newer version with a warning and its raw bytes', async () => {
    const v7 = Uint8Array.from(readVector(milan.report));
    v7[0] = 7;
    const run = await snpRef(['report', 'show', file('v7.bin', v7)]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('warning: VERSION 7 is not a layout this tool knows');
    expect(run.stdout).toContain('raw 0x000: 07000000');
  });
});

describe('snp-ref report verify', () => {
  it.each(REPORT_VECTORS)('passes $report with its certificates (exit 0)', async (v) => {
    const run = await verify(vectorPath(v.report), [...trust(v), '--at', v.validAt]);
    expect(run.failed).toEqual([]);
    expect(run.status).toBe(0);
  });

  it('tampered bytes: exit 1, signature', async () => {
    const bytes = Uint8Array.from(readVector(milan.report));
    bytes[0x90] = (bytes[0x90] ?? 0) ^ 0x80;
    const run = await verify(file('tampered.bin', bytes), [...trust(milan), '--no-check-time']);
    expect([run.status, run.failed]).toEqual([1, ['signature']]);
  });

  it("another chip's key: exit 1, signature, tcb.reported, chip-id", async () => {
    const other = ['--vcek', vectorPath('oak/milan_oc_release.vcek.der'), '--ca', vectorPath(milan.chain)];
    const run = await verify(vectorPath(milan.report), [...other, '--no-check-time']);
    expect([run.status, run.failed]).toEqual([1, ['signature', 'tcb.reported', 'chip-id']]);
  });

  it('a VLEK-signed report checked as VCEK: exit 1, signing-key', async () => {
    const run = await verify(vectorPath(vlek.report), [
      '--vcek',
      vectorPath(vlek.vek),
      '--ca',
      vectorPath(vlek.chain),
      '--no-check-time',
    ]);
    expect([run.status, run.failed]).toEqual([1, ['signing-key']]);
  });

  it('a wrong expected value: exit 1, the check, and the next step for a measurement', async () => {
    const run = await verify(vectorPath(milan.report), [...trust(milan), '--no-check-time', '--vmpl', '2']);
    expect([run.status, run.failed]).toEqual([1, ['vmpl']]);
    const text = await snpRef([
      'report',
      'verify',
      vectorPath(milan.report),
      ...trust(milan),
      '--no-check-time',
      '--measurement',
      '00'.repeat(48),
    ]);
    expect(text.status).toBe(1);
    expect(text.stdout.split('\n').slice(1, 4)).toEqual([
      'FAIL measurement     MEASUREMENT (0x090) is not the expected value',
      `                     expected ${'00'.repeat(48)} (--measurement)`,
      '                     found    b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01',
    ]);
    expect(text.stdout).toContain('snp-ref measure … --log');
  });

  it('--policy, --platform-info, --min-tcb and --min-launch-tcb as go-sev-guest check judges them', async () => {
    const run = await snpRef([
      'report',
      'verify',
      vectorPath(milan.report),
      ...trust(milan),
      '--no-check-time',
      '--policy',
      '0x30000',
      '--platform-info',
      '0x1',
      '--min-tcb',
      'bl=2,tee=0,snp=6,ucode=68',
      '--min-launch-tcb',
      'snp=5',
    ]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('FAIL policy          POLICY (0x008): DEBUG is set, not allowed');
    expect(run.stdout).toContain('expected at most 0x30000 (--policy)');
    expect(run.stdout).toContain(
      'FAIL min-tcb         REPORTED_TCB (0x180) is below the minimum in snp; CURRENT_TCB (0x038) is below the minimum in snp; COMMITTED_TCB (0x1E0) is below the minimum in snp',
    );
    expect(run.stdout).toMatch(/ok {3}platform-info/);
    expect(run.stdout).toMatch(/ok {3}min-launch-tcb/);
    const bad = await snpRef(['report', 'verify', vectorPath(milan.report), '--platform-info', 'SMT']);
    expect([bad.status, bad.stderr]).toEqual([
      2,
      'snp-ref: --platform-info: expected a 64-bit number (decimal or 0x…), got "SMT"\n',
    ]);
  });

  it('an expired certificate: exit 1, cert.validity, with --at and with the default (now)', async () => {
    const at = await verify(vectorPath(milan.report), [...trust(milan), '--at', '2030-01-01']);
    expect([at.status, at.failed]).toEqual([1, ['cert.validity']]);
    // The VLEK was valid from 2024-12-10 to 2025-12-10 (README of the reports): expired now.
    const now = await verify(vectorPath(vlek.report), trust(vlek));
    expect([now.status, now.failed]).toEqual([1, ['cert.validity']]);
    const off = await verify(vectorPath(vlek.report), [...trust(vlek), '--no-check-time']);
    expect(off.status).toBe(0);
  });

  it('without a chain: exit 1, the chain checks not made', async () => {
    const run = await verify(vectorPath(milan.report), ['--vcek', vectorPath(milan.vek), '--no-check-time']);
    expect([run.status, run.failed]).toEqual([1, ['chain.ark', 'chain.ask', 'chain.vek']]);
  });

  it.each([
    [
      'a truncated report',
      () => [file('short.bin', readVector(milan.report).subarray(0, 600))],
      /short\.bin: an attestation report is 1184 \(0x4A0\) bytes, the file holds 600/,
    ],
    [
      'a garbage certificate',
      () => [vectorPath(milan.report), '--vcek', file('garbage.der', Buffer.from('garbage'))],
      /garbage\.der: not an X\.509 certificate/,
    ],
    [
      'a malformed expectation',
      () => [vectorPath(milan.report), '--measurement', 'abc'],
      /--measurement: expected 48 bytes as 96 hex digits/,
    ],
    ['a missing file', () => [join(dir, 'absent.bin')], /absent\.bin: cannot read \(ENOENT\)/],
  ])('%s: exit 2 and a message, no stack', async (_, args, message) => {
    const run = await snpRef(['report', 'verify', ...args()]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('    at ');
    expect(run.stdout).toBe('');
  });
});

// AMD 57230 (KDS interface): /vcek/v1/{product}/cert_chain, /vlek/v1/{product}/cert_chain, and
// /vcek/v1/{product}/{hwid}?[fmcSPL&]blSPL&teeSPL&snpSPL&ucodeSPL. --url fetches nothing.
describe('snp-ref report fetch-ca, fetch-vcek', () => {
  it.each([
    [['fetch-ca', '--product', 'milan'], 'https://kdsintf.amd.com/vcek/v1/Milan/cert_chain'],
    [['fetch-ca', '--product', 'Turin', '--vlek'], 'https://kdsintf.amd.com/vlek/v1/Turin/cert_chain'],
    [
      ['fetch-vcek', vectorPath(milan.report), '--product', 'Milan'],
      'https://kdsintf.amd.com/vcek/v1/Milan/3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d?blSPL=02&teeSPL=00&snpSPL=05&ucodeSPL=68',
    ],
  ])('%j --url prints %s', async (args, url) => {
    const run = await snpRef(['report', ...args, '--url']);
    expect([run.status, run.stdout]).toEqual([0, `${url}\n`]);
  });

  it.each(REPORT_VECTORS.filter((v) => v.signer === 'VCEK' && v.version >= 3))(
    'the URL for $report names the hwID and TCB of the VCEK that signed it',
    async (v) => {
      const run = await snpRef(['report', 'fetch-vcek', vectorPath(v.report), '--url']);
      const url = new URL(run.stdout.trim());
      const [vek] = parseCertificates(readVector(v.vek), v.vek);
      expect(url.pathname).toBe(`/vcek/v1/${v.product}/${Buffer.from(vek?.hwid ?? []).toString('hex')}`);
      const spl = (name: string) => Number(url.searchParams.get(name));
      expect({
        ...(v.product === 'Turin' ? { fmc: spl('fmcSPL') } : {}),
        bootloader: spl('blSPL'),
        tee: spl('teeSPL'),
        snp: spl('snpSPL'),
        microcode: spl('ucodeSPL'),
      }).toEqual(vek?.tcb);
    },
  );

  it.each([
    [['fetch-ca'], /report fetch-ca: --product is required/],
    [['fetch-ca', '--product', 'Rome'], /--product: expected Milan, Genoa or Turin, got Rome/],
    [
      ['fetch-vcek', vectorPath(milan.report), '--url'],
      /the report does not say its generation .*: give --product/,
    ],
    [['fetch-vcek', vectorPath(vlek.report), '--url'], /a VLEK signed this report .*ask yours for it/],
    [['fetch-vcek'], /report fetch-vcek: FILE is required/],
    [['show', vectorPath(milan.report), '--url'], /--url: not used by report show/],
    [['fetch-ca', '--product', 'Milan', '--measurement', '00'], /--measurement: not used by report fetch-ca/],
  ])('%j: exit 2 and a message', async (args, message) => {
    const run = await snpRef(['report', ...args]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });
});
