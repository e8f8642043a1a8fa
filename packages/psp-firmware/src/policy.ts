/** SNP guest policy bits (include/linux/psp-sev.h SNP_POLICY_*; docs/spec-notes.md §2.3). */
export const PolicyBit = {
  SMT: 1n << 16n,
  /** Reserved, must be one. */
  RSVD_MBO: 1n << 17n,
  MIGRATE_MA: 1n << 18n,
  DEBUG: 1n << 19n,
  SINGLE_SOCKET: 1n << 20n,
  CXL_ALLOW: 1n << 21n,
  MEM_AES_256_XTS: 1n << 22n,
  RAPL_DIS: 1n << 23n,
  CIPHERTEXT_HIDING_DRAM: 1n << 24n,
  PAGE_SWAP_DISABLE: 1n << 25n,
} as const;

/**
 * Bits firmware 1.55 rejects: 63:21 (AMD-ASPFW sev_mcmd.c snp_mcmd_launch_start). Newer firmware
 * accepts CXL_ALLOW and up; the model is firmware 1.55.25.
 */
export const POLICY_RESERVED_MASK = ~((1n << 21n) - 1n) & ((1n << 64n) - 1n);

/** The fields of a guest policy that {@link decodePolicy} reads. */
export interface DecodedPolicy {
  readonly abiMinor: number;
  readonly abiMajor: number;
  readonly smt: boolean;
  readonly migrateMa: boolean;
  readonly debug: boolean;
  readonly singleSocket: boolean;
}

/** The ABI version and the SMT, MIGRATE_MA, DEBUG and SINGLE_SOCKET bits of a guest policy. */
export function decodePolicy(policy: bigint): DecodedPolicy {
  return {
    abiMinor: Number(policy & 0xffn),
    abiMajor: Number((policy >> 8n) & 0xffn),
    smt: (policy & PolicyBit.SMT) !== 0n,
    migrateMa: (policy & PolicyBit.MIGRATE_MA) !== 0n,
    debug: (policy & PolicyBit.DEBUG) !== 0n,
    singleSocket: (policy & PolicyBit.SINGLE_SOCKET) !== 0n,
  };
}

/** What the platform offers, against which LAUNCH_START checks a policy. */
export interface PlatformCapabilities {
  readonly apiMajor: number;
  readonly apiMinor: number;
  readonly smtEnabled: boolean;
  readonly sockets: number;
}

/**
 * Why LAUNCH_START refuses a policy (POLICY_FAILURE), or undefined if it accepts it: RSVD_MBO clear,
 * SMT disallowed on an SMT platform, a minimum ABI newer than the firmware's, or a reserved bit
 * (AMD-ASPFW snp_mcmd_launch_start, in that order). DEBUG and MIGRATE_MA are not checked here;
 * SINGLE_SOCKET is checked at ACTIVATE (see singleSocketViolation).
 */
export function policyViolation(policy: bigint, platform: PlatformCapabilities): string | undefined {
  if ((policy & PolicyBit.RSVD_MBO) === 0n) return 'bit 17 (must be one) is clear';
  const p = decodePolicy(policy);
  if (!p.smt && platform.smtEnabled) return 'SMT is not allowed but the platform has SMT enabled';
  if (
    p.abiMajor > platform.apiMajor ||
    (p.abiMajor === platform.apiMajor && p.abiMinor > platform.apiMinor)
  ) {
    return `requires ABI ${p.abiMajor}.${p.abiMinor}, firmware has ${platform.apiMajor}.${platform.apiMinor}`;
  }
  if ((policy & POLICY_RESERVED_MASK) !== 0n) return 'bits 63:21 are reserved in firmware 1.55';
  return undefined;
}

/** ACTIVATE's policy check (AMD-ASPFW snp_mcmd_activate): SINGLE_SOCKET on a multi-socket platform. */
export function singleSocketViolation(policy: bigint, platform: PlatformCapabilities): boolean {
  return decodePolicy(policy).singleSocket && platform.sockets > 1;
}
