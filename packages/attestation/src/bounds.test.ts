import { PolicyBit } from '@snp-ref/psp-firmware';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REPORT_VECTORS, type ReportVector, readVector } from '../test/vectors.js';
import { platformInfoCheck, policyCheck } from './bounds.js';
import { readReportInput } from './input.js';
import { decodeAttestationReport, encodeAttestationReport } from './layout.js';
import { encodeTcb } from './tcb.js';
import { type Expectations, verifyAttestation } from './verify.js';

const reportOf = (v: ReportVector) => decodeAttestationReport(readReportInput(readVector(v.report)).report);
const milan = reportOf(REPORT_VECTORS[0] as ReportVector); // POLICY 0xb0000: SMT, RSVD_MBO, DEBUG
const turin = reportOf(REPORT_VECTORS.find((v) => v.product === 'Turin') as ReportVector); // PLATFORM_INFO 0x67
const check = (report: typeof milan, expected: Expectations) =>
  verifyAttestation(report, { expected }).checks.at(-1);

/** A valid POLICY: bit 17 set, 63:26 clear. */
const validPolicy = fc.bigInt({ min: 0n, max: (1n << 26n) - 1n }).map((p) => p | PolicyBit.RSVD_MBO);

describe('--policy: the most permissive POLICY accepted (go-sev-guest validatePolicy)', () => {
  it.each([
    [0xb0000n, true, 'allows nothing the maximum does not'],
    [0x30000n, false, 'DEBUG is set, not allowed'],
    [0x1b0000n, false, 'SINGLE_SOCKET is clear, required'],
    [0xb0133n, false, 'its minimum ABI 0.0 is below the 1.51 the maximum requires'],
    [0x4b0000n, false, 'MEM_AES_256_XTS is clear, required'],
  ])('max %s: ok %s, %s', (max, ok, why) => {
    expect(check(milan, { policy: max })).toMatchObject({
      id: 'policy',
      ok,
      why: expect.stringContaining(why),
    });
  });

  it('accepts any valid policy as its own maximum, and still when the maximum grants more', () => {
    const grants = [PolicyBit.SMT, PolicyBit.MIGRATE_MA, PolicyBit.DEBUG, PolicyBit.CXL_ALLOW];
    fc.assert(
      fc.property(validPolicy, fc.subarray(grants), (p, more) => {
        expect(policyCheck(p, p).ok).toBe(true);
        expect(
          policyCheck(
            p,
            more.reduce((m, g) => m | g, p),
          ).ok,
        ).toBe(true);
      }),
    );
  });
});

describe('--platform-info: the most PLATFORM_INFO may have (go-sev-guest validatePlatformInfo)', () => {
  it.each([
    [0x67n, true, 'no feature the maximum does not allow'],
    [0x66n, false, 'SMT_EN is set, not allowed'],
    [0x27n, false, 'unnamed bits 0x40 are set, not allowed'],
    [0x6fn, false, 'RAPL_DIS is clear, required'],
  ])('max %s: ok %s, %s', (max, ok, why) => {
    expect(check(turin, { platformInfo: max })).toMatchObject({
      id: 'platform-info',
      ok,
      why: expect.stringContaining(why),
    });
  });

  it('accepts any value as its own maximum', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (info) => platformInfoCheck(info, info).ok),
    );
  });
});

describe('reserved POLICY bits fail report.reserved (abi.go ParseSnpPolicy)', () => {
  it.each([
    [0x10000n, 'POLICY (0x008) bit 17 is clear, must be one'],
    [0x30000n | (1n << 40n), 'POLICY (0x008) bits 63:26 are 0x4000, must be zero'],
  ])('POLICY %s', (policy, actual) => {
    const bytes = encodeAttestationReport({ ...milan.fields, policy }, milan.signature);
    expect(verifyAttestation(decodeAttestationReport(bytes)).checks[1]).toMatchObject({
      id: 'report.reserved',
      ok: false,
      actual,
    });
  });
});

describe('--min-tcb and --min-launch-tcb name the TCB that is too low', () => {
  const tcb = (snp: number) => encodeTcb({ bootloader: 2, tee: 0, snp, microcode: 68 }, 'Milan');
  const fields = {
    ...milan.fields,
    reportedTcb: tcb(3),
    currentTcb: tcb(5),
    committedTcb: tcb(4),
    launchTcb: tcb(2),
  };
  const report = decodeAttestationReport(encodeAttestationReport(fields, milan.signature));
  const min = { bootloader: 2, tee: 0, snp: 4, microcode: 68 };

  it('compares REPORTED_TCB, CURRENT_TCB and COMMITTED_TCB with --min-tcb', () => {
    expect(check(report, { minTcb: min })).toMatchObject({
      id: 'min-tcb',
      ok: false,
      why: 'REPORTED_TCB (0x180) is below the minimum in snp',
      actual:
        'REPORTED_TCB bl 2, tee 0, snp 3, ucode 68; CURRENT_TCB bl 2, tee 0, snp 5, ucode 68; COMMITTED_TCB bl 2, tee 0, snp 4, ucode 68',
    });
    expect(check(report, { minTcb: { ...min, snp: 5 } })?.why).toBe(
      'REPORTED_TCB (0x180) is below the minimum in snp; COMMITTED_TCB (0x1E0) is below the minimum in snp',
    );
    expect(check(report, { minTcb: { ...min, snp: 3 } })).toMatchObject({ ok: true });
  });

  it('compares LAUNCH_TCB with --min-launch-tcb', () => {
    expect(check(report, { minLaunchTcb: { ...min, snp: 3 } })).toMatchObject({
      id: 'min-launch-tcb',
      ok: false,
      why: 'LAUNCH_TCB (0x1F0) is below the minimum in snp',
    });
    expect(check(report, { minLaunchTcb: { ...min, snp: 2 } })).toMatchObject({ ok: true });
  });
});
