import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REPORT_VECTORS, type ReportVector, readVector } from '../test/vectors.js';
import { type AmdCertificate, parseCertificates } from './certs.js';
import { CertificateError } from './errors.js';
import { readReportInput } from './input.js';
import { decodeAttestationReport } from './layout.js';
import { type VerifyOptions, verifyAttestation } from './verify.js';

const certs = (file: string) => parseCertificates(readVector(file), file);
const reportOf = (file: string, edit?: (bytes: Uint8Array) => void) => {
  const bytes = Uint8Array.from(readReportInput(readVector(file)).report);
  edit?.(bytes);
  return decodeAttestationReport(bytes);
};
const trustOf = (v: ReportVector): VerifyOptions => {
  const [vek, ...bundled] = certs(v.vek);
  return { vek, signer: v.signer, chain: [...bundled, ...certs(v.chain)], at: new Date(v.validAt) };
};
const failed = (options: VerifyOptions, report = reportOf(REPORT_VECTORS[0]?.report ?? '')) =>
  verifyAttestation(report, options)
    .checks.filter((c) => !c.ok)
    .map((c) => c.id);

const milan = REPORT_VECTORS[0] as ReportVector;
const vlek = REPORT_VECTORS.find((v) => v.signer === 'VLEK') as ReportVector;

describe('every real report verifies with its certificates', () => {
  it.each(REPORT_VECTORS)('$report (v$version, $product, $signer)', (v) => {
    const verdict = verifyAttestation(reportOf(v.report), trustOf(v));
    expect(verdict.checks.filter((c) => !c.ok)).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.product?.name).toBe(v.product);
    expect(verdict.checks.map((c) => c.id)).toEqual([
      'report.version',
      'report.reserved',
      'signature',
      'signing-key',
      'chain.ark',
      'chain.ask',
      'chain.vek',
      'cert.validity',
      'tcb.reported',
      'chip-id',
    ]);
  });

  it('checks the expected values the sources state (go-sev-guest check_test.go; oak reference values)', () => {
    const verdict = verifyAttestation(reportOf(milan.report), {
      ...trustOf(milan),
      expected: {
        measurement: Buffer.from(
          'b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01',
          'hex',
        ),
        reportData: Buffer.concat([Buffer.from('0102030405', 'hex'), Buffer.alloc(59)]),
        hostData: new Uint8Array(32),
        policy: 0xb0000n,
        vmpl: 0,
        minTcb: { bootloader: 2, tee: 0, snp: 5, microcode: 68 },
      },
    });
    expect(verdict.ok).toBe(true);
    const genoa = REPORT_VECTORS.find((v) => v.report === 'oak/genoa_oc.report.bin') as ReportVector;
    const stage0 =
      'c57729018b0a6fb90dc17bb138b0aa35e4401004283ff4a2c24d3739ff3750f52384370e77b7032862a08c440a9bc4dc';
    const oak = verifyAttestation(reportOf(genoa.report), {
      ...trustOf(genoa),
      expected: {
        measurement: Buffer.from(stage0, 'hex'),
        minTcb: { bootloader: 10, tee: 0, snp: 25, microcode: 84 },
      },
    });
    expect(oak.ok).toBe(true);
  });
});

describe('a report that fails says which check and why', () => {
  it('a changed byte of the signed part fails signature only (trustee: byte 0x180)', () => {
    const verdict = verifyAttestation(
      reportOf(milan.report, (b) => {
        b[0x50] = (b[0x50] ?? 0) ^ 1;
      }),
      trustOf(milan),
    );
    expect(verdict.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['signature']);
    const tcb = reportOf('trustee/snp-test-report.bin', (b) => {
      b[0x180] = (b[0x180] ?? 0) + 1;
    });
    const trustee = REPORT_VECTORS[2] as ReportVector;
    expect(failed(trustOf(trustee), tcb)).toEqual(['signature', 'tcb.reported']);
  });

  it("another chip's VCEK: signature, TCB and chip id fail", () => {
    const other = REPORT_VECTORS.find((v) => v.report.startsWith('oak/milan')) as ReportVector;
    expect(failed({ ...trustOf(other), at: new Date(other.validAt) })).toEqual([
      'signature',
      'tcb.reported',
      'chip-id',
    ]);
  });

  it('a VLEK-signed report checked with a VCEK, and a VLEK given as a VCEK', () => {
    const report = reportOf(vlek.report);
    const verdict = verifyAttestation(report, { ...trustOf(milan), at: undefined });
    expect(verdict.checks.find((c) => c.id === 'signing-key')).toMatchObject({
      ok: false,
      actual: 'report: VLEK, certificate: VCEK',
    });
    expect(failed({ ...trustOf(vlek), signer: 'VCEK' }, report)).toEqual(['signing-key']);
  });

  it("another product's chain fails chain.ark and the links", () => {
    const genoaChain = certs('go-sev-guest/ask_ark_genoa.pem');
    const verdict = verifyAttestation(reportOf(milan.report), { ...trustOf(milan), chain: genoaChain });
    expect(verdict.checks.find((c) => c.id === 'chain.ark')?.why).toContain(
      "AMD's ARK for Genoa, the report is from a Milan",
    );
    expect(verdict.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['chain.ark', 'chain.vek']);
  });

  it('an expired certificate fails cert.validity; no date, no time check', () => {
    const expired = failed({ ...trustOf(milan), at: new Date('2030-01-01') });
    expect(expired).toEqual(['cert.validity']);
    const off = verifyAttestation(reportOf(milan.report), { ...trustOf(milan), at: undefined });
    expect(off.checks.find((c) => c.id === 'cert.validity')).toMatchObject({ ok: true, skipped: true });
  });

  it('without certificates nothing that needs one is called good', () => {
    const verdict = verifyAttestation(reportOf(milan.report), {});
    expect(verdict.ok).toBe(false);
    const notMade = verdict.checks.filter((c) => c.skipped && !c.ok).map((c) => c.id);
    expect(notMade).toEqual([
      'signature',
      'signing-key',
      'chain.ark',
      'chain.ask',
      'chain.vek',
      'tcb.reported',
      'chip-id',
    ]);
    expect(failed({ vek: trustOf(milan).vek })).toEqual(['chain.ark', 'chain.ask', 'chain.vek']);
  });

  it('wrong expected values fail their checks', () => {
    expect(
      failed({
        ...trustOf(milan),
        expected: {
          measurement: new Uint8Array(48),
          reportData: new Uint8Array(64),
          hostData: new Uint8Array(32).fill(1),
          idKeyDigest: new Uint8Array(48).fill(1),
          authorKeyDigest: new Uint8Array(48).fill(1),
          policy: 0x30000n,
          vmpl: 1,
          minTcb: { bootloader: 2, tee: 0, snp: 6, microcode: 68 },
        },
      }),
    ).toEqual([
      'measurement',
      'report-data',
      'host-data',
      'id-key-digest',
      'author-key-digest',
      'policy',
      'min-tcb',
      'vmpl',
    ]);
  });

  it('set reserved bytes and an unknown version fail their checks', () => {
    const report = reportOf(milan.report, (b) => {
      b[0x1f8] = 1; // LAUNCH_MIT_VECTOR exists only from version 5
      b[0x400] = 1; // past s
    });
    expect(verifyAttestation(report, {}).checks[1]).toMatchObject({
      id: 'report.reserved',
      ok: false,
      actual: '2 set: 0x1f8, 0x400',
    });
    const v9 = reportOf(milan.report, (b) => {
      b[0] = 9;
    });
    expect(verifyAttestation(v9, {}).checks[0]).toMatchObject({
      id: 'report.version',
      ok: false,
      actual: '9',
    });
  });

  it('any flipped bit in 0x000..0x29F fails signature', () => {
    const trust = trustOf(milan);
    const original = readReportInput(readVector(milan.report)).report;
    fc.assert(
      fc.property(fc.nat(0x2a0 * 8 - 1), (bit) => {
        const bytes = Uint8Array.from(original);
        bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        const signature = verifyAttestation(decodeAttestationReport(bytes), trust).checks.find(
          (c) => c.id === 'signature',
        );
        expect(signature?.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe(parseCertificates, () => {
  it('reads a PEM bundle (VCEK, ASK, ARK) with roles and KDS extensions', () => {
    const bundle = certs('trustee/az-snp-vtpm-vcek.pem');
    expect(bundle.map((c) => [c.where.replace(/.*, /, ''), c.role, c.subject])).toEqual([
      ['certificate 1', 'VCEK', 'SEV-VCEK'],
      ['certificate 2', 'ASK', 'SEV-Milan'],
      ['certificate 3', 'ARK', 'ARK-Milan'],
    ]);
    const turin = certs('oak/turin_oc.vcek.der')[0] as AmdCertificate;
    expect(turin.tcb).toEqual({ fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 });
    expect(Buffer.from(turin.hwid ?? []).toString('hex')).toBe('3b42092f69c656d3');
  });

  it.each([
    ['garbage bytes', Buffer.from('not a certificate at all')],
    ['a PEM block of garbage', Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')],
    [
      'a PEM file without certificates',
      Buffer.from('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'),
    ],
    ['a cut certificate', readVector('oak/genoa_oc.vcek.der').subarray(0, 500)],
  ])('names %s as a CertificateError', (_, bytes) => {
    expect(() => parseCertificates(bytes, 'x.pem')).toThrow(CertificateError);
    expect(() => parseCertificates(bytes, 'x.pem')).toThrow(/^x\.pem: /);
  });
});
