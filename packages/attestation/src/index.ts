// The declarations use Node's types (node:crypto): a consumer gets them with this package.
/// <reference types="node" preserve="true" />
export {
  type AmdCertificate,
  type CertRole,
  MAX_CERTIFICATE_FILE_BYTES,
  parseCertificates,
} from './certs.js';
export { CHECK_IDS, type Check, type CheckId } from './check.js';
export { CertificateError, KeyFormatError, ReportFormatError } from './errors.js';
export { type ShownField, shownFields, signingKeyOf } from './fields.js';
export {
  ID_BLOCK_DEFAULTS,
  MAX_KEY_FILE_BYTES,
  readP384PrivateKey,
  type SignedIdBlock,
  signIdBlock,
} from './idBlock.js';
export {
  HCL_REPORT_OFFSET,
  MAX_REPORT_INPUT_BYTES,
  type ReportContainer,
  type ReportInput,
  readReportInput,
} from './input.js';
export { KDS_BASE_URL, kdsCertChainUrl, kdsVcekUrl } from './kds.js';
export {
  type DecodedReport,
  decodeAttestationReport,
  encodeAttestationReport,
  KNOWN_VERSIONS,
  type ReportFields,
} from './layout.js';
export { isProduct, PRODUCTS, type Product, productOfCpuid } from './product.js';
export { AMD_ARK_SPKI_SHA256, productOfArkKey } from './roots.js';
export { decodeTcb, encodeTcb, formatTcb, TCB_PART_NAMES, type TcbPartName, type TcbParts } from './tcb.js';
export { type Expectations, type Verdict, type VerifyOptions, verifyAttestation } from './verify.js';
