export {
  ACCESS_OK,
  type AccessCheck,
  type AccessKind,
  type AccessResult,
  checkGuestAccess,
  checkHostAccess,
  type Fault,
  type GuestAccess,
  type GuestAsidVmpl,
  type HostAccess,
  NPF_PRIVATE_RMP,
  NpfInfo,
  PfError,
  SVM_EXIT_NPF,
  VC_PAGE_NOT_VALIDATED,
} from './access.js';
export {
  decodeRmpEntry,
  type EntryWords,
  encodeRmpEntry,
  entryFromWords,
  entryToWords,
  HYPERVISOR_OWNED,
  type PageSize,
  type RmpEntry,
  type VmplPerms,
} from './entry.js';
export {
  RmpError,
  type RmpErrorCode,
  RmpFieldRangeError,
  RmpHostSizeError,
  RmpLengthError,
  RmpPfnRangeError,
  RmpReservedBitsError,
} from './errors.js';
export { expectDefined } from './expectDefined.js';
export { counted, entryJson, entryText, hex, type RmpEntryJson } from './format.js';
export {
  HostRmp,
  type HostRmpOptions,
  type HostRmpUpdateRet,
  hostRmpUpdateErrno,
  hostRmpUpdateRetName,
  RMPUPDATE_REFUSED_ASSIGNED,
  type RmpUpdateFault,
} from './hostRmp.js';
export type { GuestPage, InstructionOutcome } from './instructions/guestPage.js';
export { psmash } from './instructions/psmash.js';
export { type PvalidateOperand, pvalidate } from './instructions/pvalidate.js';
export { type RmpAdjustOperand, rmpadjust } from './instructions/rmpadjust.js';
export { type RmpQueryOperand, type RmpQueryOutcome, rmpquery } from './instructions/rmpquery.js';
export {
  emptyRmpReadOutput,
  encodeRmpReadOutput,
  type RmpReadOutput,
  rmpread,
} from './instructions/rmpread.js';
export { hypervisorState, type RmpState, rmpupdate } from './instructions/rmpupdate.js';
export { checkInvariants, type InvariantRule, type InvariantViolation } from './invariants.js';
export {
  type BitField,
  MAX_ASID,
  PAGE_SIZE,
  PAGES_PER_2M,
  RMP_ENTRY_BYTES,
  RMP_FIELDS,
  VMPL_PERMS_ALL,
  VmplPerm,
} from './layout.js';
export { PageMap } from './pageMap.js';
export {
  codeByName,
  codeName,
  Errno,
  type ErrnoName,
  PsmashRet,
  PvalidateRet,
  RmpAdjustRet,
  RmpReadRet,
  RmpUpdateRet,
} from './returnCodes.js';
export { MAX_HOST_PAGES, RmpTable, type RmpTableMemory } from './table.js';
export { formatFtrace } from './trace/ftrace.js';
export { type ChromeTrace, type ChromeTraceEvent, toChromeTrace } from './trace/perfetto.js';
export { traceChange } from './trace/traceChange.js';
export { TraceRing, type TransitionEvent } from './trace/traceRing.js';
export {
  type Transition,
  type TransitionKind,
  type TransitionSink,
  TransitionTrace,
} from './trace/transitionTrace.js';
