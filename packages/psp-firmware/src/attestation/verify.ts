import { FirmwareInputError } from '../errors.js';
import {
  type AttestationReport,
  decodeReport,
  encodeReport,
  SIGNATURE_ALGO_ECDSA_P384_SHA384,
  SIGNED_BYTES,
} from './report.js';
import { type P384SigningKey, p384PublicKey, verifyP384 } from './signingKey.js';

/** The report's fields before signing. */
export type UnsignedReport = Omit<AttestationReport, 'signature'>;

/** Encodes the report and signs bytes 0x000..0x29F with the VCEK, as the firmware does. */
export function signReport(fields: UnsignedReport, vcek: P384SigningKey): Uint8Array {
  const unsigned = encodeReport({ ...fields, signature: { r: new Uint8Array(48), s: new Uint8Array(48) } });
  const signature = vcek.sign(unsigned.subarray(0, SIGNED_BYTES));
  return encodeReport({ ...fields, signature });
}

/** A decoded report, with whether its signature holds and why not. */
export type ReportVerification =
  | { readonly valid: true; readonly report: AttestationReport }
  | { readonly valid: false; readonly reason: string; readonly report: AttestationReport };

/**
 * Decodes every field of a report and checks its signature against the VCEK public key (97-byte
 * uncompressed SEC1 P-384 point). A report of the wrong size or a key that is not a P-384 point is
 * a typed error; a report that does not verify is `valid: false` with the reason.
 */
export function verifyReport(bytes: Uint8Array, vcekPublicKey: Uint8Array): ReportVerification {
  const report = decodeReport(bytes);
  if (report.signatureAlgo !== SIGNATURE_ALGO_ECDSA_P384_SHA384) {
    return { valid: false, reason: `unsupported SIGNATURE_ALGO ${report.signatureAlgo}`, report };
  }
  let key: ReturnType<typeof p384PublicKey>;
  try {
    if (vcekPublicKey.length !== 97 || vcekPublicKey[0] !== 0x04)
      throw new Error('not an uncompressed point');
    key = p384PublicKey(vcekPublicKey);
  } catch {
    throw new FirmwareInputError(
      'REPORT_FORMAT',
      'the VCEK public key must be a 97-byte uncompressed P-384 point',
    );
  }
  const { r, s } = report.signature;
  return verifyP384(bytes.subarray(0, SIGNED_BYTES), r, s, key)
    ? { valid: true, report }
    : { valid: false, reason: 'the signature does not match the signed part (bytes 0x000..0x29F)', report };
}
