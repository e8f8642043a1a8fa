export {
  CHECKS,
  type Check,
  type CheckId,
  explainFailure,
  FIRMWARE_CHECKS,
  type KvmCommand,
} from './checks.js';
export { FaultInjector, type FaultSite } from './faults.js';
export { AddressSpace, PAGE_SIZE } from './host/addressSpace.js';
export { HostPages } from './host/hostPages.js';
export { type Memslot, Memslots } from './host/memslots.js';
export { type CreateVmOptions, Kvm } from './kvm.js';
export { Machine, type MachineOptions } from './machine.js';
export { fail, type KvmResult, OK } from './result.js';
export {
  launchUpdateReviewed,
  launchUpdateV4,
  type ReviewedLaunchUpdate,
  type V4LaunchUpdate,
} from './snp/launchUpdate.js';
export {
  type KvmAbi,
  type LaunchFinishParams,
  type LaunchStartParams,
  SnpVm,
  type SnpVmState,
} from './snp/snpVm.js';
export { type IoctlOutcome, memEncryptOp } from './uapi/ioctl.js';
export {
  ID_AUTH_SIZE,
  ID_BLOCK_SIZE,
  KvmSevCmd,
  KvmSevCommand,
  KvmSevSnpLaunchFinish,
  KvmSevSnpLaunchStart,
  KvmSevSnpLaunchUpdate,
  KvmSevSnpLaunchUpdateV4,
  KvmSnpPageType,
  type KvmSnpPageTypeName,
} from './uapi/structs.js';
