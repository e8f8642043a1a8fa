import type { SevStatusName } from '@snp-ref/psp-firmware';
import type { ErrnoName } from '@snp-ref/rmp-core';

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
}

export const OK: KvmResult = Object.freeze({ ok: true });

export function fail(
  errno: ErrnoName,
  message: string,
  extra: Omit<KvmResult, 'ok' | 'errno' | 'message'> = {},
): KvmResult {
  return { ok: false, errno, message, ...extra };
}
