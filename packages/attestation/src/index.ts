export {
  type AmdCertificate,
  type CertRole,
  MAX_CERTIFICATE_FILE_BYTES,
  parseCertificates,
} from './certs.js';
export { CHECK_IDS, type Check, type CheckId } from './check.js';
export { CertificateError, ReportFormatError } from './errors.js';
export { type ShownField, shownFields, signingKeyOf } from './fields.js';
export {
  HCL_REPORT_OFFSET,
  MAX_REPORT_INPUT_BYTES,
  type ReportContainer,
  type ReportInput,
  readReportInput,
} from './input.js';
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
