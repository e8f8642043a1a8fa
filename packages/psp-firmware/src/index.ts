export { FirmwareInputError, type FirmwareInputErrorCode, LengthError, PlanError } from './errors.js';
export {
  DIGEST_BYTES,
  LaunchDigest,
  PAGE_BYTES,
  PageInfo,
  type PageInfoOptions,
  VMSA_GPA,
} from './measure/launchDigest.js';
export { measurePlan, type PlanMeasurement, type PlanStep } from './measure/measurePlan.js';
export {
  type LaunchPlan,
  PLAN_OP_TYPES,
  type PlanOp,
  type PlanOpName,
  parseLaunchPlan,
  SeededPages,
} from './measure/plan.js';
export { isContentMeasured, PageType, type PageTypeName, pageTypeName } from './pageType.js';
