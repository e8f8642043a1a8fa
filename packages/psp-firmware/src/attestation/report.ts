import { copyBytes } from '../bytes.js';
import { LengthError } from '../errors.js';

/** ATTESTATION_REPORT size and its signed part (../shared/SPEC-NOTES.md 5.3; virtee/sev AttestationReport). */
export const REPORT_BYTES = 0x4a0;
export const SIGNED_BYTES = 0x2a0;
/** SIGNATURE_ALGO 1: ECDSA P-384 with SHA-384. */
export const SIGNATURE_ALGO_ECDSA_P384_SHA384 = 1;
/** r and s are stored little-endian in 72-byte fields (virtee/sev src/certs/snp/ecdsa). */
export const SIGNATURE_COMPONENT_BYTES = 72;

/** A firmware version as the report stores it: build, minor, major, one reserved byte. */
export interface FirmwareVersion {
  readonly build: number;
  readonly minor: number;
  readonly major: number;
}

/** Every field of the version-2 report, by the spec's names. */
export interface AttestationReport {
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: bigint;
  readonly familyId: Uint8Array;
  readonly imageId: Uint8Array;
  readonly vmpl: number;
  readonly signatureAlgo: number;
  readonly currentTcb: bigint;
  readonly platformInfo: bigint;
  /** Bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY (0 VCEK). */
  readonly flags: number;
  readonly reportData: Uint8Array;
  readonly measurement: Uint8Array;
  readonly hostData: Uint8Array;
  readonly idKeyDigest: Uint8Array;
  readonly authorKeyDigest: Uint8Array;
  readonly reportId: Uint8Array;
  readonly reportIdMa: Uint8Array;
  readonly reportedTcb: bigint;
  readonly chipId: Uint8Array;
  readonly committedTcb: bigint;
  readonly currentVersion: FirmwareVersion;
  readonly committedVersion: FirmwareVersion;
  readonly launchTcb: bigint;
  /** ECDSA r and s as big-endian 48-byte integers (stored little-endian, zero-padded to 72 bytes). */
  readonly signature: { readonly r: Uint8Array; readonly s: Uint8Array };
}

type Kind = 'u32' | 'u64' | 'version' | number; // a number: a byte array of that size
type FieldName = Exclude<keyof AttestationReport, 'signature'>;

/** Offsets and sizes (../shared/SPEC-NOTES.md 5.3); the gaps are reserved and must be zero. */
export const REPORT_FIELDS: readonly (readonly [FieldName, number, Kind])[] = [
  ['version', 0x000, 'u32'],
  ['guestSvn', 0x004, 'u32'],
  ['policy', 0x008, 'u64'],
  ['familyId', 0x010, 16],
  ['imageId', 0x020, 16],
  ['vmpl', 0x030, 'u32'],
  ['signatureAlgo', 0x034, 'u32'],
  ['currentTcb', 0x038, 'u64'],
  ['platformInfo', 0x040, 'u64'],
  ['flags', 0x048, 'u32'],
  ['reportData', 0x050, 64],
  ['measurement', 0x090, 48],
  ['hostData', 0x0c0, 32],
  ['idKeyDigest', 0x0e0, 48],
  ['authorKeyDigest', 0x110, 48],
  ['reportId', 0x140, 32],
  ['reportIdMa', 0x160, 32],
  ['reportedTcb', 0x180, 'u64'],
  ['chipId', 0x1a0, 64],
  ['committedTcb', 0x1e0, 'u64'],
  ['currentVersion', 0x1e8, 'version'],
  ['committedVersion', 0x1ec, 'version'],
  ['launchTcb', 0x1f0, 'u64'],
];
const R_AT = 0x2a0;
const S_AT = R_AT + SIGNATURE_COMPONENT_BYTES;
const SCALAR_BYTES = 48;

const byteSize = (kind: Kind) => (typeof kind === 'number' ? kind : kind === 'u64' ? 8 : 4);

/** Encodes every field; reserved bytes are zero. */
export function encodeReport(report: AttestationReport): Uint8Array {
  const bytes = new Uint8Array(REPORT_BYTES);
  const view = new DataView(bytes.buffer);
  for (const [name, at, kind] of REPORT_FIELDS) {
    const value = report[name];
    if (kind === 'u32') view.setUint32(at, value as number, true);
    else if (kind === 'u64') view.setBigUint64(at, value as bigint, true);
    else if (kind === 'version') {
      const v = value as FirmwareVersion;
      bytes.set([v.build, v.minor, v.major], at);
    } else {
      const field = value as Uint8Array;
      if (field.length !== kind) throw new LengthError(`report field ${name}`, String(kind), field.length);
      bytes.set(field, at);
    }
  }
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
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Record<string, unknown> = {};
  for (const [name, at, kind] of REPORT_FIELDS) {
    if (kind === 'u32') fields[name] = view.getUint32(at, true);
    else if (kind === 'u64') fields[name] = view.getBigUint64(at, true);
    else if (kind === 'version')
      fields[name] = { build: bytes[at], minor: bytes[at + 1], major: bytes[at + 2] };
    else fields[name] = copyBytes(bytes, at, at + byteSize(kind));
  }
  const scalar = (at: number) => copyBytes(bytes, at, at + SCALAR_BYTES).reverse();
  return { ...fields, signature: { r: scalar(R_AT), s: scalar(S_AT) } } as unknown as AttestationReport;
}
