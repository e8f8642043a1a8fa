// What one step gives back (README.md "Result"), before its index and op are added.
import type { CheckId, KvmResult } from '@snp-ref/kvm-svm';
import type { SevStatusName } from '@snp-ref/psp-firmware';
import type { ErrnoName, Fault, RmpEntryJson } from '@snp-ref/rmp-core';
import { cpuWhy, kvmWhy, type Why } from './why.js';

/** What a step that worked gives back, besides `ok`: what it created, read or launched. */
export interface Success {
  readonly ok: true;
  /** vm.create: the VM's ASID. */
  readonly asid?: number;
  /** rmp.query: the entry. */
  readonly entry?: RmpEntryJson;
  /** hv.read, guest.read: the bytes read, in hex. */
  readonly data?: string;
  /** snp.launch_update: the pages it measured. */
  readonly pages?: number;
  /** upstream snp.launch_update: the struct's fields as KVM wrote them back (len 0: the range is done). */
  readonly next?: { readonly gpa: string; readonly hva: string; readonly len: number };
  /** upstream snp.launch_update: why a call that did some pages stopped before the end of its range. */
  readonly stopped?: Why;
  /** A KVM command: the pages it leaked. */
  readonly leaked?: readonly number[];
}

/** What a failed step gives back: the error behind it (see why.ts), a message and the why. */
export interface Failure {
  readonly ok: false;
  /** A KVM command's errno, or the scenario's own (EINVAL, EFAULT). */
  readonly errno?: ErrnoName;
  /** A KVM command: which check of kvm-svm's CHECKS refused. */
  readonly check?: CheckId;
  readonly fwError?: SevStatusName;
  /** upstream snp.launch_update: the errno inside kvm_gmem_populate, which the ioctl returns as EIO. */
  readonly innerErrno?: ErrnoName;
  /** The return code of RMPUPDATE or PVALIDATE. */
  readonly rmpRet?: string;
  /** The fault an access raised. */
  readonly fault?: Fault['kind'] | 'terminated';
  readonly pages?: number;
  readonly leaked?: readonly number[];
  readonly message: string;
  readonly why: Why;
}

/** Step outcomes before `i` and `op` are added. */
export type Outcome = Success | Failure;

/** A step the model refuses itself: EFAULT for what is not mapped, EINVAL for the rest. */
export const failed = (errno: 'EINVAL' | 'EFAULT', message: string): Outcome => ({
  ok: false,
  errno,
  message,
  why: cpuWhy(errno === 'EFAULT' ? 'scenario.unmapped' : 'scenario.invalid'),
});

/** A KVM command's result as a step's: a failure with its why (upstream's progress: upstream.ts). */
export function fromKvm(result: KvmResult, gpa?: number): Outcome {
  if (!result.ok) return { ...result, why: kvmWhy(result, gpa) };
  const { pages, leaked } = result;
  return { ok: true, ...(pages !== undefined && { pages }), ...(leaked !== undefined && { leaked }) };
}
