// The declarations use Node's types (Buffer and node:crypto): a consumer gets them with this package.
/// <reference types="node" preserve="true" />
export {
  AEAD_AES_256_GCM,
  decodeReportRequest,
  decodeReportResponse,
  encodeReportRequest,
  encodeReportResponse,
  GUEST_MESSAGE_MAX_PAYLOAD,
  type GuestMessage,
  GuestMessageHeader,
  MsgType,
  openGuestMessage,
  REPORT_REQUEST_BYTES,
  REPORT_RESPONSE_HEADER_BYTES,
  type ReportRequest,
  type ReportResponse,
  readGuestMessageHeader,
  sealGuestMessage,
} from './attestation/guestMessage.js';
export {
  type AttestationReport,
  decodeReport,
  encodeReport,
  REPORT_BYTES,
  ReportBody,
  readSignature,
  SIGNATURE_ALGO_ECDSA_P384_SHA384,
  SIGNATURE_COMPONENT_BYTES,
  SIGNED_BYTES,
  writeSignature,
} from './attestation/report.js';
export { P384SigningKey, p384PublicKey, verifyP384 } from './attestation/signingKey.js';
export {
  type ReportVerification,
  signReport,
  type UnsignedReport,
  verifyReport,
} from './attestation/verify.js';
export { SnpCommand, type SnpCommandName } from './commands.js';
export { FirmwareInputError, type FirmwareInputErrorCode } from './errors.js';
export {
  type CommandChecks,
  FIRMWARE_CHECKS,
  type LaunchCommandName,
  type Refusal,
} from './firmware/checks.js';
export {
  IdAuthInfo,
  IdBlockBuffer,
  SnpActivate,
  SnpAddr,
  SnpGuestRequest,
  SnpGuestStatusArgs,
  SnpGuestStatusBuffer,
  SnpLaunchFinish,
  SnpLaunchStart,
  SnpLaunchUpdate,
  SnpPagePaddr,
  SnpPlatformStatusBuffer,
} from './firmware/commandBuffers.js';
export { defaultPlatformCpuid, type FirmwareConfig, type ResolvedConfig } from './firmware/config.js';
export {
  CPUID_MAX_ENTRIES,
  type CpuidEntry,
  cpuidKey,
  decodeCpuidPage,
  encodeCpuidPage,
  type PlatformCpuid,
} from './firmware/cpuidPage.js';
export {
  encodeIdBlock,
  GuestState,
  type GuestStateName,
  ID_BLOCK_BYTES,
  type IdBlock,
} from './firmware/guestContext.js';
export {
  CURVE_P384,
  decodeEcdsaPublicKey,
  decodeEcdsaSignature,
  ECDSA_PUBLIC_KEY_BYTES,
  ECDSA_SIGNATURE_BYTES,
  type EcdsaSignature,
  ecdsaVerifies,
  encodeEcdsaPublicKey,
  encodeEcdsaSignature,
  encodeIdAuthInfo,
  ID_KEY_ALGO_ECDSA_P384_SHA384,
  type IdAuth,
  keyDigest,
} from './firmware/idAuth.js';
export { C_BIT, runCommand } from './firmware/mailbox.js';
export { SECRETS_PAGE_VERSION, SecretsPage, vmpckOf } from './firmware/secretsPage.js';
export {
  type LaunchFinishParams,
  type LaunchStartParams,
  type LaunchUpdateParams,
  type PlatformState,
  SnpFirmware,
  type SnpGuestStatus,
  type SnpPlatformStatus,
} from './firmware/snpFirmware.js';
// The launch digest and plans, also importable alone as @snp-ref/psp-firmware/measure.
export * from './measure/index.js';
export { MemoryEncryption } from './memory/encryption.js';
export { PhysicalMemory } from './memory/physicalMemory.js';
export {
  type DecodedPolicy,
  decodePolicy,
  type PlatformCapabilities,
  POLICY_RESERVED_MASK,
  PolicyBit,
  policyViolation,
} from './policy.js';
export {
  FW_SUCCESS,
  type FwStatus,
  fwStatus,
  fwStatusOfCode,
  SevStatus,
  type SevStatusName,
  sevStatusName,
} from './status.js';
export {
  type FieldKind,
  type FieldValue,
  PackedStruct,
  type StructLayout,
  type StructValue,
} from './struct.js';
