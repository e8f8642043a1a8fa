// @snp-ref/psp-firmware/measure: the launch digest alone, without the firmware, the attestation
// crypto and their dependencies, for tools that only measure (snp-ref measure loads in a fraction
// of the time).
// The declarations use Node's types (Buffer): a consumer gets them with this package.
/// <reference types="node" preserve="true" />
export { bytesToHex } from '../bytes.js';
export {
  FirmwareInputError,
  LaunchOptionsError,
  LengthError,
  OvmfError,
  PlanError,
  VmsaError,
} from '../errors.js';
export {
  checkImageSize,
  type MetadataSection,
  OvmfGuid,
  type OvmfImage,
  parseOvmfImage,
  SectionType,
  type SectionTypeName,
} from '../ovmf/image.js';
export {
  firmwareOp,
  type OvmfLaunchOptions,
  ovmfLaunchPlan,
  ovmfVmsaProvenance,
  type VcpuOptions,
  type VmsaProvenance,
} from '../ovmf/launch.js';
export {
  cmdlineBytes,
  type KernelHashes,
  SEV_HASHES_TABLE_BYTES,
  sevHashesTable,
} from '../ovmf/sevHashes.js';
export {
  measureSevLaunch,
  type SevLaunch,
  type SevLaunchOptions,
  type SevMode,
  type SevRegion,
  type SevStep,
  sevLaunch,
} from '../ovmf/sevLaunch.js';
export {
  type SvsmImages,
  type SvsmLaunchOptions,
  svsmImages,
  svsmLaunchPlan,
  svsmVmsaProvenance,
} from '../ovmf/svsmLaunch.js';
export { buildOvmfImage, type SyntheticOvmfSpec, seededBytes } from '../ovmf/synthetic.js';
export { isContentMeasured, PageType, type PageTypeName, pageTypeName } from '../pageType.js';
export { cpuSignature, VCPU_TYPES, vcpuTypeSignature, vcpuTypeSource } from '../vmsa/cpuSignature.js';
export {
  changeName,
  changesBehind,
  type FieldChange,
  fieldChangeText,
  HOST_KERNEL_CHANGES,
  type HostKernelChange,
  type KernelVersion,
  laterBackports,
  parseKernelVersion,
  versionText,
} from '../vmsa/hostKernel.js';
export {
  type DecodedVmsa,
  decodeVmsa,
  encodeVmsa,
  VMSA_BYTES,
  VMSA_FIELDS,
  type VmsaField,
  type VmsaValues,
  vmsaField,
} from '../vmsa/layout.js';
export {
  BSP_RESET_EIP,
  type ResetInput,
  type ResetInputs,
  type ResetSetting,
  resetSettings,
  resetVmsaValues,
  SVSM_RESET_STATE,
  VMM_RESET_STATE,
  VMM_TYPES,
  type VmmType,
} from '../vmsa/resetState.js';
export {
  DIGEST_BYTES,
  LaunchDigest,
  type MeasuredPage,
  type PageHasher,
  PageInfo,
  type PageInfoOptions,
  VMSA_GPA,
} from './launchDigest.js';
export { measureOp, measurePlan, type PlanMeasurement, type PlanStep } from './measurePlan.js';
export { type MeasureFilesOptions, measurePlanWithFiles } from './measurePlanFiles.js';
export { ParallelPageHasher, sharedPages } from './parallelPageHasher.js';
export {
  explicitPage,
  type LaunchPlan,
  launchPlanJson,
  PLAN_OP_TYPES,
  type PlanOp,
  type PlanOpName,
  parseLaunchPlan,
  SeededPages,
} from './plan.js';
