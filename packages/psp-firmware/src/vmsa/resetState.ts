import { type KernelVersion, onHostKernel } from './hostKernel.js';
import { type VmsaValues, vmsaField } from './layout.js';
import profiles from './vmm-profiles.json' with { type: 'json' };

/**
 * The VMMs whose initial vCPU state differs (sev-snp-measure's --vmm-type: QEMU, ec2, gce), each a
 * key of vmm-profiles.json `vmms`. Written out rather than taken from the JSON, so that the
 * declarations do not import JSON (which a `module: nodenext` consumer cannot without an attribute).
 */
export const VMM_TYPES = ['qemu', 'ec2', 'gce'] as const;
/** One of {@link VMM_TYPES}. */
export type VmmType = (typeof VMM_TYPES)[number];

/** Values that come from the launch rather than from a constant. */
export type ResetInput =
  | 'vcpu-signature'
  | 'guest-features'
  | 'reset-eip'
  | 'reset-eip-base'
  | 'reset-eip-offset';
const INPUTS: readonly string[] = [
  'vcpu-signature',
  'guest-features',
  'reset-eip',
  'reset-eip-base',
  'reset-eip-offset',
];

/** One field of the initial VMSA, with where its value comes from. */
export interface ResetSetting {
  readonly field: string;
  readonly value: bigint | ResetInput;
  readonly from: string;
  /** Only for the BSP (reset EIP 0xfffffff0) or only for the APs; both when absent. */
  readonly vcpu?: 'bsp' | 'ap';
}

interface ProfileEntry {
  field: string;
  value: string;
  source: string;
  note?: string;
  vcpu?: string;
}

/** A setting of vmm-profiles.json, checked: a real field, a hex value or a known input, a known source. */
function setting(entry: ProfileEntry): ResetSetting {
  const where = `vmm-profiles.json ${entry.field}`;
  vmsaField(entry.field);
  const source = (profiles.sources as Record<string, string>)[entry.source];
  if (source === undefined) throw new Error(`${where}: unknown source ${entry.source}`);
  const input = entry.value.startsWith('$') ? entry.value.slice(1) : undefined;
  if (input !== undefined && !INPUTS.includes(input))
    throw new Error(`${where}: unknown input ${entry.value}`);
  if (input === undefined && !/^0x[0-9a-f]+$/i.test(entry.value))
    throw new Error(`${where}: bad value ${entry.value}`);
  if (entry.vcpu !== undefined && entry.vcpu !== 'bsp' && entry.vcpu !== 'ap')
    throw new Error(`${where}: vcpu is bsp or ap, not ${entry.vcpu}`);
  return {
    field: entry.field,
    value: input === undefined ? BigInt(entry.value) : (input as ResetInput),
    from: entry.note === undefined ? source : `${source}: ${entry.note}`,
    ...(entry.vcpu !== undefined && { vcpu: entry.vcpu as 'bsp' | 'ap' }),
  };
}

/**
 * The initial VMSA of each VMM, from vmm-profiles.json (values as sev-snp-measure vmsa.py
 * reproduces them for real attestation reports): QEMU keeps its x87/SSE reset values and puts the
 * CPUID signature in RDX; EC2 and GCE zero the FPU state and load RDX with 0x600; EC2 uses
 * non-accessed code/stack segments and a 16-bit TSS type; GCE overwrites G_PAT.
 */
export const VMM_RESET_STATE: Readonly<Record<VmmType, readonly ResetSetting[]>> = {
  qemu: [...profiles.common, ...profiles.vmms.qemu].map(setting),
  ec2: [...profiles.common, ...profiles.vmms.ec2].map(setting),
  gce: [...profiles.common, ...profiles.vmms.gce].map(setting),
};

/** The VMSA of every vCPU of a Coconut SVSM launched by QEMU below OVMF (vmm-profiles.json `svsm`). */
export const SVSM_RESET_STATE: readonly ResetSetting[] = profiles.svsm.map(setting);

/** The reset EIP of the BSP: the architectural reset vector (AMD APM Vol 2 §14.1.5). */
export const BSP_RESET_EIP = 0xfffffff0;

/**
 * What a vCPU's initial VMSA depends on: the VMM, its reset EIP, its CPUID signature and the guest's
 * features.
 */
export interface ResetInputs {
  readonly vmmType: VmmType;
  /** The vCPU's reset EIP: BSP_RESET_EIP for the BSP, the OVMF SEV-ES reset block's EIP for APs. */
  readonly eip: number;
  readonly vcpuSignature: number;
  readonly guestFeatures: bigint;
  /** Where the vCPU signature came from (a vCPU type, a flag), for the provenance of RDX. */
  readonly vcpuSignatureFrom?: string;
  /** Where SEV_FEATURES came from when not from --guest-features (SEV-ES: always 0). */
  readonly guestFeaturesFrom?: string;
  /** KVM's VMSA as of this host kernel (hostKernel.ts); `keep` names fields the user set by flag. */
  readonly hostKernel?: { readonly version: KernelVersion; readonly keep?: readonly string[] };
}

/**
 * Each set field of the initial VMSA with its value and where it comes from, in profile order:
 * the VMM's reset state, or `settings` (SVSM_RESET_STATE).
 */
export function resetSettings(
  inputs: ResetInputs,
  settings: readonly ResetSetting[] = VMM_RESET_STATE[inputs.vmmType],
): { field: string; value: bigint; from: string }[] {
  const role = inputs.eip === BSP_RESET_EIP ? 'bsp' : 'ap';
  const resolve = (value: bigint | ResetInput): bigint => {
    switch (value) {
      case 'vcpu-signature':
        return BigInt(inputs.vcpuSignature);
      case 'guest-features':
        return inputs.guestFeatures;
      case 'reset-eip':
        return BigInt(inputs.eip);
      case 'reset-eip-base':
        return BigInt((inputs.eip & 0xffff0000) >>> 0);
      case 'reset-eip-offset':
        return BigInt(inputs.eip & 0xffff);
      default:
        return value;
    }
  };
  const from = (s: ResetSetting) => {
    if (s.value === 'vcpu-signature' && inputs.vcpuSignatureFrom)
      return `${s.from} (${inputs.vcpuSignatureFrom})`;
    if (s.value === 'guest-features' && inputs.guestFeaturesFrom) return inputs.guestFeaturesFrom;
    return s.from;
  };
  const resolved = settings
    .filter((s) => s.vcpu === undefined || s.vcpu === role)
    .map((s) => ({ field: s.field, value: resolve(s.value), from: from(s) }));
  const kernel = inputs.hostKernel;
  return kernel === undefined ? resolved : onHostKernel(resolved, kernel.version, new Set(kernel.keep));
}

/** The field values of the initial VMSA (zero fields left out), ready for encodeVmsa. */
export function resetVmsaValues(inputs: ResetInputs, settings?: readonly ResetSetting[]): VmsaValues {
  return Object.fromEntries(
    resetSettings(inputs, settings)
      .filter((s) => s.value !== 0n)
      .map((s) => [s.field, s.value]),
  );
}
