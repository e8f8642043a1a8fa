import { expectDefined } from '@snp-ref/rmp-core';

/**
 * Firmware status codes (`enum sev_ret_code`, include/uapi/linux/psp-sev.h; docs/spec-notes.md
 * §2.2). Every command returns one of these, by name and number.
 */
export const SevStatus = {
  SUCCESS: 0x00,
  INVALID_PLATFORM_STATE: 0x01,
  INVALID_GUEST_STATE: 0x02,
  INVALID_CONFIG: 0x03,
  INVALID_LEN: 0x04,
  ALREADY_OWNED: 0x05,
  INVALID_CERTIFICATE: 0x06,
  POLICY_FAILURE: 0x07,
  INACTIVE: 0x08,
  INVALID_ADDRESS: 0x09,
  BAD_SIGNATURE: 0x0a,
  BAD_MEASUREMENT: 0x0b,
  ASID_OWNED: 0x0c,
  INVALID_ASID: 0x0d,
  WBINVD_REQUIRED: 0x0e,
  DFFLUSH_REQUIRED: 0x0f,
  INVALID_GUEST: 0x10,
  INVALID_COMMAND: 0x11,
  ACTIVE: 0x12,
  HWSEV_RET_PLATFORM: 0x13,
  HWSEV_RET_UNSAFE: 0x14,
  UNSUPPORTED: 0x15,
  INVALID_PARAM: 0x16,
  RESOURCE_LIMIT: 0x17,
  SECURE_DATA_INVALID: 0x18,
  INVALID_PAGE_SIZE: 0x19,
  INVALID_PAGE_STATE: 0x1a,
  INVALID_MDATA_ENTRY: 0x1b,
  INVALID_PAGE_OWNER: 0x1c,
  AEAD_OFLOW: 0x1d,
  EXIT_RING_BUFFER: 0x1f,
  RMP_INIT_REQUIRED: 0x20,
  BAD_SVN: 0x21,
  BAD_VERSION: 0x22,
  SHUTDOWN_REQUIRED: 0x23,
  UPDATE_FAILED: 0x24,
  RESTORE_REQUIRED: 0x25,
  RMP_INITIALIZATION_FAILED: 0x26,
  INVALID_KEY: 0x27,
} as const;
/** A firmware status by name (a key of {@link SevStatus}). */
export type SevStatusName = keyof typeof SevStatus;

/** A command's outcome: the status by name and by number. */
export interface FwStatus {
  readonly name: SevStatusName;
  readonly code: number;
}

const STATUSES = new Map<SevStatusName, FwStatus>(
  (Object.entries(SevStatus) as [SevStatusName, number][]).map(([name, code]) => [
    name,
    Object.freeze({ name, code }),
  ]),
);

/** The (shared, frozen) FwStatus of a status name. */
export function fwStatus(name: SevStatusName): FwStatus {
  return expectDefined(STATUSES.get(name), name);
}

/** The status of a command that succeeded. */
export const FW_SUCCESS = fwStatus('SUCCESS');

/** The (shared, frozen) FwStatus of a status code, or undefined for a code the ABI does not define. */
export function fwStatusOfCode(code: number): FwStatus | undefined {
  for (const status of STATUSES.values()) if (status.code === code) return status;
  return undefined;
}

/** The name of a status code, or `UNKNOWN(0x..)`. */
export function sevStatusName(code: number): string {
  return fwStatusOfCode(code)?.name ?? `UNKNOWN(0x${code.toString(16)})`;
}
