import type { SevStatusName } from '@snp-ref/psp-firmware';
import type { ErrnoName } from '@snp-ref/rmp-core';
import { CHECKS, type CheckId } from './checks.js';

/**
 * What an ioctl returns to the VMM: success, or the errno with the firmware status (kvm_sev_cmd.error)
 * or the RMPUPDATE return code behind it (the mapping of ../shared/SCENARIO.md "Errors").
 */
export interface KvmResult {
  readonly ok: boolean;
  readonly errno?: ErrnoName;
  readonly fwError?: SevStatusName;
  readonly rmpRet?: string;
  /** LAUNCH_UPDATE: pages measured before the call ended (all of them on success). */
  readonly pages?: number;
  /** Pages the call could not give back to the host and leaked (snp_leak_pages). */
  readonly leaked?: readonly number[];
  readonly message?: string;
  /** Which check refused (CHECKS): what it checks and where the rule comes from. */
  readonly check?: CheckId;
}

export const OK: KvmResult = Object.freeze({ ok: true });

/** A refusal by `check`, with its errno from the catalogue and what went wrong here. */
export function fail(
  check: CheckId,
  message: string,
  extra: Omit<KvmResult, 'ok' | 'errno' | 'message' | 'check'> = {},
): KvmResult {
  return { ok: false, errno: CHECKS[check].errno, message, check, ...extra };
}
