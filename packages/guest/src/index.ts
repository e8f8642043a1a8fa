export {
  type AttestationExpectation,
  type AttestationVerdict,
  type FieldMismatch,
  type GuestRequestChannel,
  type ReportOutcome,
  requestReport,
  verifyAttestation,
} from './attestation.js';
export {
  decodePscRequest,
  decodePscResponse,
  decodeTermRequest,
  encodePscRequest,
  encodePscResponse,
  encodeTermRequest,
  GHCB_MSR,
  GhcbInfo,
  GhcbMsrError,
  PSC_RESP_ERROR,
  PscOperation,
  type PscOperationName,
  TermReason,
} from './ghcb/msr.js';
export { changePageState, type PscHypervisor, type PscOutcome, RmpPscHypervisor } from './psc.js';
export {
  type AccessOutcome,
  type AccessRefusal,
  type GuestEvent,
  type GuestMemory,
  GuestVcpu,
  type GuestVcpuOptions,
  type NestedPageTable,
} from './vcpu.js';
