export {
  CHECKS,
  type Check,
  type CheckId,
  explainFailure,
  firmwareChecksFor,
  type GmemIoctl,
  inFlavour,
  type KvmAbi,
  type KvmCommand,
} from './checks.js';
export {
  type CodedFaultSite,
  FAULT_SITES,
  FaultInjector,
  type FaultSite,
  isCodedSite,
  type KernelFaultSite,
} from './faults.js';
export { AddressSpace } from './host/addressSpace.js';
export { GuestMemfd } from './host/guestMemfd.js';
export { HostPages } from './host/hostPages.js';
export { MemoryAttributes } from './host/memoryAttributes.js';
export { type Memslot, Memslots } from './host/memslots.js';
export { type CreateVmOptions, Kvm } from './kvm.js';
export { Machine, type MachineOptions } from './machine.js';
export {
  advance,
  fail,
  type KvmFailure,
  type KvmResult,
  type KvmSuccess,
  type LaunchUpdateProgress,
  OK,
} from './result.js';
export {
  createGuestMemfd,
  type GmemMemoryRegion,
  setGmemMemoryRegion,
  setMemoryAttributes,
  setMemoryRegion,
} from './snp/guestMemory.js';
export {
  launchUpdateReviewed,
  launchUpdateV4,
  type ReviewedLaunchUpdate,
  type V4LaunchUpdate,
} from './snp/launchUpdate.js';
export { launchUpdateUpstream, type UpstreamLaunchUpdate } from './snp/launchUpdateUpstream.js';
export {
  type KvmLaunchFinishParams,
  type KvmLaunchStartParams,
  SnpVm,
  type SnpVmState,
} from './snp/snpVm.js';
export { type VmsaProfile, vmsaPage } from './snp/vmsaProfile.js';
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
