import type { SevStatusName } from '@snp-ref/psp-firmware';
import type { ErrnoName } from '@snp-ref/rmp-core';
import { CHECKS, type CheckId } from './checks.js';

/**
 * What an ioctl returns to the VMM: success, or the errno with the firmware status (kvm_sev_cmd.error)
 * or the RMPUPDATE return code behind it (the mapping of packages/scenario/README.md "Errors a step reports").
 */
export type KvmResult = KvmSuccess | KvmFailure;

export interface KvmSuccess {
  readonly ok: true;
  /** LAUNCH_UPDATE: the pages it measured (all of them). */
  readonly pages?: number;
  /** Pages the call could not give back to the host and leaked (snp_leak_pages). */
  readonly leaked?: readonly number[];
}

export interface KvmFailure {
  readonly ok: false;
  readonly errno: ErrnoName;
  readonly message: string;
  /** Which check refused (CHECKS): what it checks and where the rule comes from. */
  readonly check: CheckId;
  /** The firmware's status, when the firmware refused (kvm_sev_cmd.error). */
  readonly fwError?: SevStatusName;
  /** The RMPUPDATE return code, when rmpupdate() failed. */
  readonly rmpRet?: string;
  /** LAUNCH_UPDATE: pages measured before the call ended. */
  readonly pages?: number;
  /** Pages the call could not give back to the host and leaked (snp_leak_pages). */
  readonly leaked?: readonly number[];
}

export const OK: KvmSuccess = Object.freeze({ ok: true });

/** A refusal by `check`, with its errno from the catalogue and what went wrong here. */
export function fail(
  check: CheckId,
  message: string,
  extra: Omit<KvmFailure, 'ok' | 'errno' | 'message' | 'check'> = {},
): KvmFailure {
  return { ok: false, errno: CHECKS[check].errno, message, check, ...extra };
}
