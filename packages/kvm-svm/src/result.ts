import type { SevStatusName } from '@snp-ref/psp-firmware';
import { type ErrnoName, PAGE_SIZE } from '@snp-ref/rmp-core';
import { CHECKS, type CheckId } from './checks.js';
import { KvmSnpPageType } from './uapi/structs.js';

/**
 * What an ioctl returns to the VMM: success, or the errno with the firmware status (kvm_sev_cmd.error)
 * or the RMPUPDATE return code behind it (the mapping of packages/scenario/README.md "Errors a step reports").
 */
export type KvmResult = KvmSuccess | KvmFailure;

/** A command that succeeded, with what it did where that matters. */
export interface KvmSuccess {
  readonly ok: true;
  /** LAUNCH_UPDATE: the pages it measured (reviewed, v4: all of them; upstream: from the first on). */
  readonly pages?: number;
  /** upstream LAUNCH_UPDATE: the struct's fields as written back, advanced past the pages done. */
  readonly next?: LaunchUpdateProgress;
  /** upstream LAUNCH_UPDATE: the refusal that ended a call after its first page (the call still returns 0). */
  readonly stopped?: KvmFailure;
  /** Pages the call could not give back to the host and leaked (snp_leak_pages). */
  readonly leaked?: readonly number[];
}

/**
 * A command that failed: the errno the VMM sees, the check that refused, and the firmware status or RMPUPDATE
 * code behind it.
 */
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
  /** upstream LAUNCH_UPDATE: the errno inside kvm_gmem_populate, which the ioctl returns as EIO. */
  readonly innerErrno?: ErrnoName;
  /** LAUNCH_UPDATE: pages measured before the call ended. */
  readonly pages?: number;
  /** Pages the call could not give back to the host and leaked (snp_leak_pages). */
  readonly leaked?: readonly number[];
}

/** The plain success, shared. */
/** The fields of struct kvm_sev_snp_launch_update that LAUNCH_UPDATE writes back (docs/spec-notes.md §3.3 "progress"). */
export interface LaunchUpdateProgress {
  readonly gfnStart: bigint;
  readonly uaddr: bigint;
  readonly len: bigint;
}

/**
 * The progress KVM writes back after `pages` pages: gfn_start and len advanced, uaddr too unless
 * the type is ZERO, whose uaddr KVM ignores (snp_launch_update, arch/x86/kvm/svm/sev.c).
 */
export function advance(
  p: LaunchUpdateProgress & { readonly type: number },
  pages: number,
): LaunchUpdateProgress {
  const bytes = BigInt(pages) * BigInt(PAGE_SIZE);
  return {
    gfnStart: p.gfnStart + BigInt(pages),
    uaddr: p.type === KvmSnpPageType.ZERO ? p.uaddr : p.uaddr + bytes,
    len: p.len - bytes,
  };
}

/** The plain success, shared. */
export const OK: KvmSuccess = Object.freeze({ ok: true });

/** A refusal by `check`, with its errno from the catalogue and what went wrong here. */
export function fail(
  check: CheckId,
  message: string,
  extra: Omit<KvmFailure, 'ok' | 'errno' | 'message' | 'check'> = {},
): KvmFailure {
  return { ok: false, errno: CHECKS[check].errno, message, check, ...extra };
}
