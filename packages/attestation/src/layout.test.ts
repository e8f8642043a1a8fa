import type { FieldKind } from '@snp-ref/psp-firmware';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REPORT_VECTORS, readVector } from '../test/vectors.js';
import { ReportFormatError } from './errors.js';
import { readReportInput } from './input.js';
import {
  decodeAttestationReport,
  encodeAttestationReport,
  fieldsOfLayout,
  layoutVersionOf,
  type ReportFields,
} from './layout.js';
import { decodeTcb, encodeTcb } from './tcb.js';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u8 = fc.integer({ min: 0, max: 255 });
const KIND: Record<Exclude<FieldKind, { bytes: number }>, fc.Arbitrary<number | bigint>> = {
  u8,
  u16: fc.integer({ min: 0, max: 0xffff }),
  u32: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  u64: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
};

/** Any value of each field a layout version defines, read off the layout itself (VERSION set apart). */
const fieldsOf = (layoutVersion: 2 | 3 | 5) =>
  Object.fromEntries(
    fieldsOfLayout(layoutVersion)
      .filter(([name]) => name !== 'version')
      .map(([name, [, kind]]) => [name, typeof kind === 'object' ? bytes(kind.bytes) : KIND[kind]]),
  );
const FIELDS_BY_VERSION = [2, 3, 4, 5].map(
  (version) => [version, fieldsOf(layoutVersionOf(version))] as const,
);
const signature = fc.record({ r: bytes(48), s: bytes(48) });

describe('the report layout by version', () => {
  it.each(FIELDS_BY_VERSION)('decode(encode(fields)) is the fields, version %i', (version, arbitraries) => {
    fc.assert(
      fc.property(fc.record(arbitraries), signature, (fields, sig) => {
        const encoded = encodeAttestationReport({ ...fields, version } as ReportFields, sig);
        const decoded = decodeAttestationReport(encoded);
        expect(decoded.fields).toEqual({ ...fields, version });
        expect(decoded.signature).toEqual(sig);
        expect(decoded.reservedSet).toEqual([]);
        expect(encodeAttestationReport(decoded.fields, decoded.signature)).toEqual(encoded);
      }),
      { numRuns: 50 },
    );
  });

  it('re-encodes every real report byte for byte', () => {
    for (const v of REPORT_VECTORS) {
      const { report } = readReportInput(readVector(v.report));
      const decoded = decodeAttestationReport(report);
      expect(decoded.fields.version).toBe(v.version);
      expect(encodeAttestationReport(decoded.fields, decoded.signature)).toEqual(report);
    }
  });

  it('reads the version 3 and 5 fields where the sources put them', () => {
    const turin = decodeAttestationReport(readReportInput(readVector('oak/turin_oc.report.bin')).report);
    expect([turin.fields.cpuidFamId, turin.fields.cpuidModId, turin.fields.cpuidStep]).toEqual([
      0x1a, 0x02, 1,
    ]);
    const genoa = decodeAttestationReport(readReportInput(readVector('oak/genoa_oc.report.bin')).report);
    expect([genoa.fields.launchMitVector, genoa.fields.currentMitVector]).toEqual([1n, 1n]);
    const v2 = decodeAttestationReport(readReportInput(readVector('go-sev-guest/attestation.bin')).report);
    expect(v2.fields.cpuidFamId).toBeUndefined();
    expect(v2.fields.launchMitVector).toBeUndefined();
  });

  it('splits TCB_VERSION per generation (README: Milan/Genoa bytes 0,1,6,7; Turin 0,1,2,3,7)', () => {
    expect(decodeTcb(0x4405000000000002n, 'Milan')).toEqual({ bootloader: 2, tee: 0, snp: 5, microcode: 68 });
    expect(decodeTcb(0x4700000002000100n, 'Turin')).toEqual({
      fmc: 0,
      bootloader: 1,
      tee: 0,
      snp: 2,
      microcode: 71,
    });
    fc.assert(
      fc.property(u8, u8, u8, u8, u8, (fmc, bootloader, tee, snp, microcode) => {
        const turin = { fmc, bootloader, tee, snp, microcode };
        expect(decodeTcb(encodeTcb(turin, 'Turin'), 'Turin')).toEqual(turin);
      }),
    );
  });
});

describe(readReportInput, () => {
  const binary = readVector('go-sev-guest/attestation.bin');

  it('finds the report in binary, hex text and the HCL wrapper', () => {
    const hex = Buffer.from(
      `${Buffer.from(binary)
        .toString('hex')
        .replace(/(.{64})/g, '$1\n')}\n`,
    );
    expect(readReportInput(hex)).toEqual({ report: new Uint8Array(binary), container: 'hex' });
    const hcl = Buffer.concat([Buffer.from('HCLA'), Buffer.alloc(28), binary, Buffer.alloc(100)]);
    expect(readReportInput(hcl)).toEqual({ report: new Uint8Array(binary), container: 'hcl' });
    expect(readReportInput(readVector('trustee/az-snp-vtpm-hcl-report.bin')).container).toBe('hcl');
  });

  it.each([
    ['a truncated report', binary.subarray(0, 1000), 'this one is 1000|holds 1000'],
    ['an HCL report cut short', Buffer.concat([Buffer.from('HCLA'), Buffer.alloc(600)]), 'only 604 bytes'],
    ['hex text with an odd digit', Buffer.from('abc'), 'odd number of digits'],
    ['a too large input', new Uint8Array((1 << 20) + 1), 'too large'],
  ])('refuses %s', (_, input, message) => {
    expect(() => decodeAttestationReport(readReportInput(input).report)).toThrow(ReportFormatError);
    expect(() => decodeAttestationReport(readReportInput(input).report)).toThrow(new RegExp(message));
  });
});
