import { copyBytes } from '../bytes.js';
import { LengthError } from '../errors.js';
import { PackedStruct, type StructValue } from '../struct.js';

/** ATTESTATION_REPORT size and its signed part (docs/spec-notes.md §5.3; virtee/sev AttestationReport). */
export const REPORT_BYTES = 0x4a0;
/** See {@link REPORT_BYTES}: the report's bytes the signature covers. */
export const SIGNED_BYTES = 0x2a0;
/** SIGNATURE_ALGO 1: ECDSA P-384 with SHA-384. */
export const SIGNATURE_ALGO_ECDSA_P384_SHA384 = 1;
/** r and s are stored little-endian in 72-byte fields at 0x2A0 and 0x2E8 (virtee/sev src/certs/snp/ecdsa). */
export const SIGNATURE_COMPONENT_BYTES = 72;
const R_AT = 0x2a0;
const S_AT = R_AT + SIGNATURE_COMPONENT_BYTES;
const SCALAR_BYTES = 48;

/**
 * The signed part of the version-2 report, every field at its offset (docs/spec-notes.md §5.3;
 * AMD-ASPFW snp_attestation_report_t). Bytes no field covers are reserved and zero.
 */
export const ReportBody = new PackedStruct('attestation report', SIGNED_BYTES, {
  version: [0x000, 'u32'],
  guestSvn: [0x004, 'u32'],
  policy: [0x008, 'u64'],
  familyId: [0x010, { bytes: 16 }],
  imageId: [0x020, { bytes: 16 }],
  vmpl: [0x030, 'u32'],
  signatureAlgo: [0x034, 'u32'],
  currentTcb: [0x038, 'u64'],
  /** Bit 0 SMT_EN, bit 1 TSME_EN. */
  platformInfo: [0x040, 'u64'],
  /** Bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY (0 VCEK). */
  flags: [0x048, 'u32'],
  reportData: [0x050, { bytes: 64 }],
  measurement: [0x090, { bytes: 48 }],
  hostData: [0x0c0, { bytes: 32 }],
  idKeyDigest: [0x0e0, { bytes: 48 }],
  authorKeyDigest: [0x110, { bytes: 48 }],
  reportId: [0x140, { bytes: 32 }],
  reportIdMa: [0x160, { bytes: 32 }],
  reportedTcb: [0x180, 'u64'],
  chipId: [0x1a0, { bytes: 64 }],
  committedTcb: [0x1e0, 'u64'],
  currentBuild: [0x1e8, 'u8'],
  currentMinor: [0x1e9, 'u8'],
  currentMajor: [0x1ea, 'u8'],
  committedBuild: [0x1ec, 'u8'],
  committedMinor: [0x1ed, 'u8'],
  committedMajor: [0x1ee, 'u8'],
  launchTcb: [0x1f0, 'u64'],
});

/** Every field of the report, by the spec's names; the signature's r and s as big-endian 48-byte integers. */
export type AttestationReport = Readonly<StructValue<(typeof ReportBody)['layout']>> & {
  readonly signature: { readonly r: Uint8Array; readonly s: Uint8Array };
};

/** Encodes every field; reserved bytes are zero. */
export function encodeReport(report: AttestationReport): Uint8Array {
  const bytes = new Uint8Array(REPORT_BYTES);
  bytes.set(ReportBody.encode(report));
  writeSignature(bytes, report.signature);
  return bytes;
}

/** Writes r and s (big-endian 48 bytes each) into the signature field, little-endian. */
export function writeSignature(bytes: Uint8Array, signature: AttestationReport['signature']): void {
  for (const [value, at] of [
    [signature.r, R_AT],
    [signature.s, S_AT],
  ] as const) {
    if (value.length !== SCALAR_BYTES) throw new LengthError('signature component', '48', value.length);
    bytes.fill(0, at, at + SIGNATURE_COMPONENT_BYTES);
    bytes.set(Uint8Array.from(value).reverse(), at);
  }
}

/** Decodes every field of a 0x4A0-byte report; a buffer of any other size is a LengthError. */
export function decodeReport(bytes: Uint8Array): AttestationReport {
  if (bytes.length !== REPORT_BYTES)
    throw new LengthError('an attestation report', '1184 (0x4A0)', bytes.length);
  return { ...ReportBody.decode(bytes.subarray(0, SIGNED_BYTES)), signature: readSignature(bytes) };
}

/** Reads r and s from the signature field of a report (little-endian) as big-endian 48-byte integers. */
export function readSignature(bytes: Uint8Array): AttestationReport['signature'] {
  const scalar = (at: number) => copyBytes(bytes, at, at + SCALAR_BYTES).reverse();
  return { r: scalar(R_AT), s: scalar(S_AT) };
}
