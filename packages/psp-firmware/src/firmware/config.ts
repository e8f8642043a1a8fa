import { cpuidKey, type PlatformCpuid } from './cpuidPage.js';

/** What the simulated platform is: its identity seed, firmware version, TCB and topology. */
export interface FirmwareConfig {
  /** Derives every secret of the platform: VCEK, chip id, VMPCKs, report ids, memory keys. */
  readonly seed: string;
  /** Firmware version; default 1.55 build 25, the published Genoa firmware (AMD-ASPFW README). */
  readonly apiMajor?: number;
  readonly apiMinor?: number;
  readonly build?: number;
  /** Largest ASID an SNP guest may use (min_sev_asid - 1 on Linux); default 100. */
  readonly maxSnpAsid?: number;
  readonly smtEnabled?: boolean;
  readonly sockets?: number;
  /** TCB_VERSION as a u64 (boot loader, TEE, reserved, SNP, microcode bytes for Milan/Genoa). */
  readonly tcb?: bigint;
  /** CPUID Fn0000_0001_EAX; default a Genoa part (family 19h model 11h stepping 1). */
  readonly fms?: number;
  /** The CPUID values a CPUID page is checked against; default: defaultPlatformCpuid(fms). */
  readonly cpuid?: PlatformCpuid;
}

/** A FirmwareConfig with every default filled in. */
export type ResolvedConfig = Required<FirmwareConfig>;

const GENOA_FMS = 0x00a1_0f11;

/** A small CPUID table: vendor, family/features, extended features and the SEV leaf 0x8000001F. */
export function defaultPlatformCpuid(fms = GENOA_FMS): PlatformCpuid {
  return new Map([
    [cpuidKey(0, 0), [0x10, 0x6874_7541, 0x444d_4163, 0x6974_6e65]], // "AuthenticAMD"
    [cpuidKey(1, 0), [fms, 0x0080_0800, 0x7ef8_320b, 0x178b_fbff]],
    [cpuidKey(0x8000_0000, 0), [0x8000_0028, 0x6874_7541, 0x444d_4163, 0x6974_6e65]],
    [cpuidKey(0x8000_001f, 0), [0x0001_1fff, 0x0000_4173, 0x0000_01fd, 0x0000_0001]],
  ]);
}

export function resolveConfig(config: FirmwareConfig): ResolvedConfig {
  const fms = config.fms ?? GENOA_FMS;
  return {
    seed: config.seed,
    apiMajor: config.apiMajor ?? 1,
    apiMinor: config.apiMinor ?? 55,
    build: config.build ?? 25,
    maxSnpAsid: config.maxSnpAsid ?? 100,
    smtEnabled: config.smtEnabled ?? true,
    sockets: config.sockets ?? 1,
    tcb: config.tcb ?? 0xd508_0000_0000_0003n, // microcode 0xd5, SNP 8, TEE 0, boot loader 3
    fms,
    cpuid: config.cpuid ?? defaultPlatformCpuid(fms),
  };
}
