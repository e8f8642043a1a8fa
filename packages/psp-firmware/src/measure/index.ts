// @snp-ref/psp-firmware/measure: the launch digest alone, without the firmware, the attestation
// crypto and their dependencies, for tools that only measure (snp-ref measure loads in a fraction
// of the time).
export { LengthError, PlanError } from '../errors.js';
export { isContentMeasured, PageType, type PageTypeName, pageTypeName } from '../pageType.js';
export {
  DIGEST_BYTES,
  LaunchDigest,
  PAGE_BYTES,
  type PageHasher,
  PageInfo,
  type PageInfoOptions,
  VMSA_GPA,
} from './launchDigest.js';
export { measurePlan, type PlanMeasurement, type PlanStep } from './measurePlan.js';
export { type MeasureFilesOptions, measurePlanWithFiles } from './measurePlanFiles.js';
export { ParallelPageHasher, sharedPages } from './parallelPageHasher.js';
export {
  type LaunchPlan,
  PLAN_OP_TYPES,
  type PlanOp,
  type PlanOpName,
  parseLaunchPlan,
  SeededPages,
} from './plan.js';
