import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LengthError } from '../errors.js';
import { type AttestationReport, decodeReport, encodeReport, REPORT_BYTES, SIGNED_BYTES } from './report.js';
import { P384SigningKey } from './signingKey.js';
import { signReport, type UnsignedReport, verifyReport } from './verify.js';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const u8 = fc.integer({ min: 0, max: 255 });

const unsignedReport: fc.Arbitrary<UnsignedReport> = fc.record({
  version: u32,
  guestSvn: u32,
  policy: u64,
  familyId: bytes(16),
  imageId: bytes(16),
  vmpl: u32,
  signatureAlgo: fc.constant(1),
  currentTcb: u64,
  platformInfo: u64,
  flags: u32,
  reportData: bytes(64),
  measurement: bytes(48),
  hostData: bytes(32),
  idKeyDigest: bytes(48),
  authorKeyDigest: bytes(48),
  reportId: bytes(32),
  reportIdMa: bytes(32),
  reportedTcb: u64,
  chipId: bytes(64),
  committedTcb: u64,
  currentBuild: u8,
  currentMinor: u8,
  currentMajor: u8,
  committedBuild: u8,
  committedMinor: u8,
  committedMajor: u8,
  launchTcb: u64,
});
const report: fc.Arbitrary<AttestationReport> = fc
  .tuple(unsignedReport, bytes(48), bytes(48))
  .map(([fields, r, s]) => ({ ...fields, signature: { r, s } }));

const vcek = new P384SigningKey('test platform');

describe('report codec', () => {
  it('decodes what it encodes, every field', () => {
    fc.assert(
      fc.property(report, (r) => {
        expect(decodeReport(encodeReport(r))).toEqual(r);
      }),
    );
  });

  it('puts MEASUREMENT at 0x90 and the signature r little-endian at 0x2A0', () => {
    const r = fc.sample(report, { numRuns: 1, seed: 7 })[0] as AttestationReport;
    const encoded = encodeReport(r);
    expect(encoded.slice(0x90, 0xc0)).toEqual(r.measurement);
    expect(encoded.slice(0x2a0, 0x2a0 + 48)).toEqual(Uint8Array.from(r.signature.r).reverse());
    expect(encoded.slice(0x2a0 + 48, 0x2e8).every((b) => b === 0)).toBe(true);
  });

  it.each([0, REPORT_BYTES - 1, REPORT_BYTES + 1])('rejects a %i-byte report', (size) => {
    expect(() => decodeReport(new Uint8Array(size))).toThrow(LengthError);
    expect(() => decodeReport(new Uint8Array(size))).toThrow(`must be 1184 (0x4A0) bytes, got ${size}`);
  });
});

describe(verifyReport, () => {
  it('accepts what the VCEK signed, and no report with a flipped bit in the signed part', () => {
    fc.assert(
      fc.property(unsignedReport, fc.nat(SIGNED_BYTES * 8 - 1), (fields, bit) => {
        const signed = signReport(fields, vcek);
        expect(verifyReport(signed, vcek.publicKey)).toMatchObject({ valid: true, report: fields });
        const tampered = Uint8Array.from(signed);
        tampered[bit >> 3] = (tampered[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(verifyReport(tampered, vcek.publicKey).valid).toBe(false);
      }),
      { numRuns: 40 },
    );
  });

  it('rejects a signature made by another platform, and a tampered signature', () => {
    const fields = fc.sample(unsignedReport, { numRuns: 1, seed: 3 })[0] as UnsignedReport;
    const signed = signReport(fields, vcek);
    expect(verifyReport(signed, new P384SigningKey('other platform').publicKey)).toMatchObject({
      valid: false,
    });
    const badS = Uint8Array.from(signed);
    badS[0x2e8] = (badS[0x2e8] ?? 0) ^ 1;
    expect(verifyReport(badS, vcek.publicKey).valid).toBe(false);
  });

  it('signs deterministically: the same report and key give the same bytes', () => {
    const fields = fc.sample(unsignedReport, { numRuns: 1, seed: 5 })[0] as UnsignedReport;
    expect(signReport(fields, vcek)).toEqual(signReport(fields, vcek));
  });

  it('names a key that is not a P-384 point', () => {
    const signed = signReport(fc.sample(unsignedReport, { numRuns: 1, seed: 9 })[0] as UnsignedReport, vcek);
    expect(() => verifyReport(signed, new Uint8Array(97))).toThrow('97-byte uncompressed P-384 point');
  });
});
