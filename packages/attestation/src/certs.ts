// AMD's certificates as the verifier needs them: role, dates, key, and the KDS extensions of a VCEK/VLEK.
import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { fromBER, IA5String, Integer, OctetString } from 'asn1js';
import { Certificate } from 'pkijs';
import { CertificateError } from './errors.js';
import type { TcbPartName } from './tcb.js';

/** A certificate file is refused above this size (AMD's chain of two RSA-4096 certificates is ~3.5 KiB in PEM). */
export const MAX_CERTIFICATE_FILE_BYTES = 256 * 1024;
const MAX_CERTIFICATES_PER_FILE = 16;

/**
 * The roles of AMD's certificates: the root (ARK), the signing keys' intermediates (ASK for VCEKs, ASVK for
 * VLEKs), and the keys that sign reports (VCEK, chip-unique; VLEK, loaded by a cloud provider).
 */
export type CertRole = 'ARK' | 'ASK' | 'ASVK' | 'VCEK' | 'VLEK';

/**
 * The role by subject common name, as AMD's KDS names them: "ARK-Milan", "SEV-Milan" (ASK),
 * "SEV-VLEK-Milan" (ASVK), "SEV-VCEK", "SEV-VLEK" (the certificates in go-sev-guest verify/trust/*.pem
 * and the KDS VCEKs; snpguest src/verify.rs parse_common_name tells them apart the same way).
 */
function roleOf(commonName: string): CertRole | undefined {
  if (commonName === 'SEV-VCEK') return 'VCEK';
  if (commonName === 'SEV-VLEK') return 'VLEK';
  if (commonName.startsWith('ARK-')) return 'ARK';
  if (commonName.startsWith('SEV-VLEK-')) return 'ASVK';
  if (commonName.startsWith('SEV-')) return 'ASK';
  return undefined;
}

/**
 * AMD's extensions of a VCEK or VLEK, under 1.3.6.1.4.1.3704.1 (go-sev-guest kds/kds.go: productName
 * .2, blSPL .3.1, teeSPL .3.2, snpSPL .3.3, ucodeSPL .3.8, hwID .4; snpguest src/verify.rs: fmcSPL .3.9).
 */
const AMD_OID = '1.3.6.1.4.1.3704.1';
const PRODUCT_NAME_OID = `${AMD_OID}.2`;
const HWID_OID = `${AMD_OID}.4`;
const TCB_OIDS: Readonly<Record<string, TcbPartName>> = {
  [`${AMD_OID}.3.1`]: 'bootloader',
  [`${AMD_OID}.3.2`]: 'tee',
  [`${AMD_OID}.3.3`]: 'snp',
  [`${AMD_OID}.3.8`]: 'microcode',
  [`${AMD_OID}.3.9`]: 'fmc',
};
/** RSASSA-PSS (RFC 8017 §A.2.3; RFC 4055), with which AMD signs every certificate of the chain. */
export const RSASSA_PSS_OID = '1.2.840.113549.1.1.10';

/**
 * A certificate of AMD's chain as {@link parseCertificates} read it: its role, names, validity, key and the
 * SEV-SNP extensions.
 */
export interface AmdCertificate {
  /** The file and, in a bundle, which certificate: "chain.pem, certificate 2". */
  readonly where: string;
  readonly role: CertRole | undefined;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly signatureAlgorithm: string;
  /** node:crypto's view, which checks signatures (OpenSSL). */
  readonly x509: X509Certificate;
  readonly publicKey: KeyObject;
  /** SHA-256 of the DER SubjectPublicKeyInfo, hex. */
  readonly spkiSha256: string;
  readonly productName?: string;
  /** The TCB parts the certificate's extensions state. */
  readonly tcb: Readonly<Partial<Record<TcbPartName, number>>>;
  /** The hwID extension (64 bytes; 8 on Turin), or undefined (a VLEK has none). */
  readonly hwid?: Uint8Array;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g;

/** The certificates of a file: one DER certificate, or PEM with any number of them. */
export function parseCertificates(bytes: Uint8Array, file: string): AmdCertificate[] {
  if (bytes.length > MAX_CERTIFICATE_FILE_BYTES)
    throw new CertificateError(file, `${bytes.length} bytes is too large for a certificate file`);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  if (!text.includes('-----BEGIN')) return [parseCertificate(bytes, file)];
  const blocks = [...text.matchAll(PEM_BLOCK)].map((m) => Buffer.from(m[1] ?? '', 'base64'));
  if (blocks.length === 0) throw new CertificateError(file, 'PEM without a CERTIFICATE block');
  if (blocks.length > MAX_CERTIFICATES_PER_FILE)
    throw new CertificateError(
      file,
      `${blocks.length} certificates; at most ${MAX_CERTIFICATES_PER_FILE} are read`,
    );
  return blocks.map((der, i) =>
    parseCertificate(der, blocks.length === 1 ? file : `${file}, certificate ${i + 1}`),
  );
}

function parseCertificate(der: Uint8Array, where: string): AmdCertificate {
  let x509: X509Certificate;
  let cert: Certificate;
  try {
    x509 = new X509Certificate(der);
    cert = Certificate.fromBER(der);
  } catch {
    throw new CertificateError(
      where,
      'not an X.509 certificate (expected DER, or PEM "BEGIN CERTIFICATE" blocks)',
    );
  }
  const commonName = (name: typeof cert.subject) =>
    String(name.typesAndValues.find((tv) => tv.type === '2.5.4.3')?.value.valueBlock.value ?? '');
  const subject = commonName(cert.subject);
  const tcb: Partial<Record<TcbPartName, number>> = {};
  let productName: string | undefined;
  let hwid: Uint8Array | undefined;
  for (const extension of cert.extensions ?? []) {
    const value = extension.extnValue.valueBlock.valueHexView;
    const part = TCB_OIDS[extension.extnID];
    if (part !== undefined) tcb[part] = tcbByte(value, where, extension.extnID);
    else if (extension.extnID === PRODUCT_NAME_OID) productName = ia5String(value);
    else if (extension.extnID === HWID_OID) hwid = octets(value);
  }
  const publicKey = x509.publicKey;
  return {
    where,
    role: roleOf(subject),
    subject,
    issuer: commonName(cert.issuer),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    signatureAlgorithm: cert.signatureAlgorithm.algorithmId,
    x509,
    publicKey,
    spkiSha256: createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex'),
    ...(productName === undefined ? {} : { productName }),
    tcb,
    ...(hwid === undefined ? {} : { hwid }),
  };
}

/** The one DER value the bytes hold, or undefined. */
function derValue(bytes: Uint8Array) {
  const { offset, result } = fromBER(bytes);
  return offset === bytes.length ? result : undefined;
}

/** The product name is a DER IA5String ("Milan-B0"; go-sev-guest kds.go asn1IA5String). */
function ia5String(bytes: Uint8Array): string {
  const value = derValue(bytes);
  return value instanceof IA5String ? value.valueBlock.value : '';
}

/** A TCB extension is a DER INTEGER 0..255 (AMD KDS; go-sev-guest kds.go asn1U8). */
function tcbByte(bytes: Uint8Array, where: string, oid: string): number {
  const value = derValue(bytes);
  const n = value instanceof Integer ? value.valueBlock.valueDec : Number.NaN;
  if (!(n >= 0 && n <= 255)) throw new CertificateError(where, `extension ${oid} is not an integer 0..255`);
  return n;
}

/**
 * hwID is a DER OCTET STRING in current KDS certificates and the raw bytes in older ones (snpguest
 * src/verify.rs check_cert_bytes: 0x04 prefix, else the legacy raw form); Turin's is 8 bytes.
 */
function octets(bytes: Uint8Array): Uint8Array {
  const value = derValue(bytes);
  return new Uint8Array(value instanceof OctetString ? value.valueBlock.valueHexView : bytes);
}
