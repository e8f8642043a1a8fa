// The attestation report by version: which fields each version defines, decode and encode.
import {
  PackedStruct,
  REPORT_BYTES,
  ReportBody,
  readSignature,
  SIGNED_BYTES,
  type StructValue,
  writeSignature,
} from '@snp-ref/psp-firmware';
import { ReportFormatError } from './errors.js';

/**
 * Version 3 adds CPUID_FAM_ID, CPUID_MOD_ID and CPUID_STEP at 0x188–0x18A (go-sev-guest abi.go
 * ReportToProto: `r.Version >= ReportVersion3` reads data[0x188..0x18A]; virtee/sev
 * src/firmware/guest/types/snp.rs CPUID_FAMILY_ID_BYTES 0x188, CPUID_MODEL_ID_BYTES 0x189).
 */
const ReportBodyV3 = new PackedStruct('attestation report (version 3)', SIGNED_BYTES, {
  ...ReportBody.layout,
  cpuidFamId: [0x188, 'u8'],
  cpuidModId: [0x189, 'u8'],
  cpuidStep: [0x18a, 'u8'],
});

/**
 * Version 5 adds LAUNCH_MIT_VECTOR @0x1F8 and CURRENT_MIT_VECTOR @0x200, u64 each (go-sev-guest
 * abi.go ReportToProto data[0x1F8:0x200], data[0x200:0x208], then mbz(0x208, 0x2A0)).
 */
const ReportBodyV5 = new PackedStruct('attestation report (version 5)', SIGNED_BYTES, {
  ...ReportBodyV3.layout,
  launchMitVector: [0x1f8, 'u64'],
  currentMitVector: [0x200, 'u64'],
});

/**
 * The fields of a version 2 report (every version has them).
 * @inline
 */
type V2Fields = StructValue<(typeof ReportBody)['layout']>;
/**
 * The fields version 3 adds (CPUID family, model and stepping, launch TCB).
 * @inline
 */
type V3Only = Omit<StructValue<(typeof ReportBodyV3)['layout']>, keyof V2Fields>;
/**
 * The fields version 5 adds (launch and current mitigation vectors).
 * @inline
 */
type V5Only = Omit<StructValue<(typeof ReportBodyV5)['layout']>, keyof V2Fields | keyof V3Only>;

/** Every field of the signed part; the ones a version does not define are absent. */
export type ReportFields = Readonly<V2Fields & Partial<V3Only> & Partial<V5Only>>;

/** A report read with the layout of its VERSION: the fields, the signature, and which layout read them. */
export interface DecodedReport {
  readonly fields: ReportFields;
  /** r and s as big-endian 48-byte integers. */
  readonly signature: { readonly r: Uint8Array; readonly s: Uint8Array };
  /** The layout the fields were read with: 2, 3 or 5 (version 4 is read as 3). */
  readonly layoutVersion: 2 | 3 | 5;
  /** True when VERSION is one this layout table knows (2 to 5). */
  readonly knownVersion: boolean;
  /** Offsets of non-zero bytes that the version's layout reserves (must be zero). */
  readonly reservedSet: readonly number[];
  /** The 0x4A0 bytes as given. */
  readonly bytes: Uint8Array;
}

/** Versions 2 to 5 are defined (go-sev-guest abi.go MinSupportedReportVersion..MaxSupportedReportVersion). */
export const KNOWN_VERSIONS = [2, 3, 4, 5] as const;

/** Version 4 reads like version 3 (virtee/sev: the `sev` crate parses 3 and 4 alike); newer ones as 5. */
export function layoutVersionOf(version: number): 2 | 3 | 5 {
  if (version >= 5) return 5;
  return version >= 3 ? 3 : 2;
}

const LAYOUTS = { 2: ReportBody, 3: ReportBodyV3, 5: ReportBodyV5 } as const;

/** Each field of a layout version and its offset and kind, in offset order. */
export function fieldsOfLayout(layoutVersion: 2 | 3 | 5) {
  return Object.entries(LAYOUTS[layoutVersion].layout).sort(([, [a]], [, [b]]) => a - b);
}

/**
 * With ECDSA P-384, r and s take 72 bytes each from 0x2A0: the rest of the signature field up to
 * 0x4A0 must be zero (go-sev-guest abi.go ReportToProto, mbz(signatureOffset+144, ReportSize)).
 */
const SIGNATURE_RESERVED_FROM = 0x2a0 + 2 * 72;

/** Decodes a 0x4A0-byte report by the layout of its VERSION; another size is a ReportFormatError. */
export function decodeAttestationReport(bytes: Uint8Array): DecodedReport {
  if (bytes.length !== REPORT_BYTES)
    throw new ReportFormatError(`an attestation report is 1184 (0x4A0) bytes, this one is ${bytes.length}`);
  const version = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  const layoutVersion = layoutVersionOf(version);
  const layout = LAYOUTS[layoutVersion];
  const signed = bytes.subarray(0, SIGNED_BYTES);
  const reservedSet = layout.reservedBytesSet(signed);
  for (let at = SIGNATURE_RESERVED_FROM; at < REPORT_BYTES; at++) if (bytes[at] !== 0) reservedSet.push(at);
  return {
    fields: layout.decode(signed),
    signature: readSignature(bytes),
    layoutVersion,
    knownVersion: (KNOWN_VERSIONS as readonly number[]).includes(version),
    reservedSet,
    bytes,
  };
}

/**
 * Encodes the fields by the layout of their VERSION (fields the version does not define are not
 * written) and the signature; reserved bytes are zero.
 */
export function encodeAttestationReport(
  fields: ReportFields,
  signature: DecodedReport['signature'],
): Uint8Array {
  const layout = LAYOUTS[layoutVersionOf(fields.version)] as unknown as PackedStruct<
    (typeof ReportBodyV5)['layout']
  >;
  const complete = { cpuidFamId: 0, cpuidModId: 0, cpuidStep: 0, launchMitVector: 0n, currentMitVector: 0n };
  const bytes = new Uint8Array(REPORT_BYTES);
  bytes.set(layout.encode({ ...complete, ...fields }));
  writeSignature(bytes, signature);
  return bytes;
}
