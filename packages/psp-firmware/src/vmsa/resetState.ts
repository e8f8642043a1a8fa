import { type VmsaValues, vmsaField } from './layout.js';

/** The VMMs whose initial vCPU state differs (sev-snp-measure's --vmm-type: QEMU, ec2, gce). */
export type VmmType = 'qemu' | 'ec2' | 'gce';
export const VMM_TYPES: readonly VmmType[] = ['qemu', 'ec2', 'gce'];

/** Values that come from the launch rather than from a constant. */
export type ResetInput = 'vcpu-signature' | 'guest-features' | 'reset-eip-base' | 'reset-eip-offset';

/** One field of the initial VMSA, with where its value comes from. */
export interface ResetSetting {
  readonly field: string;
  readonly value: bigint | ResetInput;
  readonly from: string;
  /** Only for the BSP (reset EIP 0xfffffff0) or only for the APs; both when absent. */
  readonly vcpu?: 'bsp' | 'ap';
}

const RESET = 'x86 power-on state (AMD APM Vol 2 §14.1.3, Table 14-1)';
const KVM_RESET = 'KVM vCPU reset (arch/x86/kvm/svm/svm.c init_vmcb)';
const QEMU_RESET = 'QEMU x86_cpu_reset (target/i386/cpu.c)';
/** Where the per-VMM values are documented as measured in practice. */
const PROFILE = (vmm: string) => `${vmm} initial vCPU state (virtee/sev-snp-measure vmsa.py)`;

/** A data segment at reset: selector 0, base 0, limit 0xffff, present read/write accessed (type 3, S, P). */
const dataSegment = (name: string, attrib: bigint, from = RESET): ResetSetting[] => [
  { field: `${name}.attrib`, value: attrib, from },
  { field: `${name}.limit`, value: 0xffffn, from: RESET },
];

/** Settings every VMM profile shares. */
const COMMON: readonly ResetSetting[] = [
  ...dataSegment('es', 0x93n),
  ...dataSegment('ds', 0x93n),
  ...dataSegment('fs', 0x93n),
  ...dataSegment('gs', 0x93n),
  { field: 'cs.selector', value: 0xf000n, from: RESET },
  { field: 'cs.limit', value: 0xffffn, from: RESET },
  {
    field: 'cs.base',
    value: 'reset-eip-base',
    from: 'reset EIP & 0xffff0000 (BSP 0xfffffff0; APs: the OVMF SEV-ES reset block)',
  },
  { field: 'rip', value: 'reset-eip-offset', from: 'reset EIP & 0xffff' },
  { field: 'ss.limit', value: 0xffffn, from: RESET },
  { field: 'gdtr.limit', value: 0xffffn, from: RESET },
  { field: 'idtr.limit', value: 0xffffn, from: RESET },
  { field: 'ldtr.attrib', value: 0x82n, from: `${RESET}: LDT descriptor, present` },
  { field: 'ldtr.limit', value: 0xffffn, from: RESET },
  { field: 'tr.limit', value: 0xffffn, from: RESET },
  { field: 'efer', value: 0x1000n, from: `${KVM_RESET}: EFER.SVME` },
  { field: 'cr4', value: 0x40n, from: `${KVM_RESET}: CR4.MCE` },
  { field: 'cr0', value: 0x10n, from: `${RESET}: CR0.ET` },
  { field: 'dr7', value: 0x400n, from: RESET },
  { field: 'dr6', value: 0xffff0ff0n, from: RESET },
  { field: 'rflags', value: 0x2n, from: `${RESET}: reserved bit 1` },
  { field: 'xcr0', value: 0x1n, from: `${RESET}: XCR0.X87` },
  {
    field: 'sev_features',
    value: 'guest-features',
    from: '--guest-features (SEV_FEATURES of the VMSA, APM Vol 2 Table B-4)',
  },
];

/**
 * The initial VMSA of each VMM (values as sev-snp-measure vmsa.py reproduces them for real
 * attestation reports): QEMU keeps its x87/SSE reset values and puts the CPUID signature in RDX;
 * EC2 and GCE zero the FPU state and load RDX with 0x600; EC2 uses non-accessed code/stack/TSS
 * types (and a non-accessed CS for the BSP only); GCE overwrites G_PAT.
 */
export const VMM_RESET_STATE: Readonly<Record<VmmType, readonly ResetSetting[]>> = {
  qemu: [
    ...COMMON,
    { field: 'cs.attrib', value: 0x9bn, from: `${QEMU_RESET}: code, present, readable, accessed` },
    { field: 'ss.attrib', value: 0x93n, from: `${QEMU_RESET}: data, present, writable, accessed` },
    { field: 'tr.attrib', value: 0x8bn, from: `${QEMU_RESET}: present, busy 32-bit TSS` },
    { field: 'g_pat', value: 0x0007040600070406n, from: 'PAT reset value (AMD APM Vol 2 §A.3)' },
    {
      field: 'rdx',
      value: 'vcpu-signature',
      from: `${RESET}: RDX = CPUID Fn0000_0001 EAX (--vcpu-type / --vcpu-sig)`,
    },
    { field: 'mxcsr', value: 0x1f80n, from: QEMU_RESET },
    { field: 'x87_fcw', value: 0x37fn, from: QEMU_RESET },
  ],
  ec2: [
    ...COMMON,
    {
      field: 'cs.attrib',
      value: 0x9an,
      from: `${PROFILE('EC2')}: BSP code segment not accessed`,
      vcpu: 'bsp',
    },
    { field: 'cs.attrib', value: 0x9bn, from: `${PROFILE('EC2')}: AP code segment accessed`, vcpu: 'ap' },
    { field: 'ss.attrib', value: 0x92n, from: `${PROFILE('EC2')}: stack segment not accessed` },
    { field: 'tr.attrib', value: 0x83n, from: `${PROFILE('EC2')}: present, busy 16-bit TSS` },
    { field: 'g_pat', value: 0x0007040600070406n, from: 'PAT reset value (AMD APM Vol 2 §A.3)' },
    { field: 'rdx', value: 0x600n, from: `${PROFILE('EC2')}: fixed RDX, not the CPUID signature` },
  ],
  gce: [
    ...COMMON,
    { field: 'cs.attrib', value: 0x9bn, from: `${PROFILE('GCE')}: as QEMU` },
    { field: 'ss.attrib', value: 0x93n, from: `${PROFILE('GCE')}: as QEMU` },
    { field: 'tr.attrib', value: 0x8bn, from: `${PROFILE('GCE')}: as QEMU` },
    { field: 'g_pat', value: 0x00070106n, from: `${PROFILE('GCE')}: the hypervisor overwrites G_PAT` },
    { field: 'rdx', value: 0x600n, from: `${PROFILE('GCE')}: fixed RDX, not the CPUID signature` },
  ],
};

/** The reset EIP of the BSP: the architectural reset vector (AMD APM Vol 2 §14.1.5). */
export const BSP_RESET_EIP = 0xfffffff0;

export interface ResetInputs {
  readonly vmmType: VmmType;
  /** The vCPU's reset EIP: BSP_RESET_EIP for the BSP, the OVMF SEV-ES reset block's EIP for APs. */
  readonly eip: number;
  readonly vcpuSignature: number;
  readonly guestFeatures: bigint;
}

/** Each set field of the initial VMSA with its value and where it comes from, in profile order. */
export function resetSettings(inputs: ResetInputs): { field: string; value: bigint; from: string }[] {
  const role = inputs.eip === BSP_RESET_EIP ? 'bsp' : 'ap';
  const resolve = (value: bigint | ResetInput): bigint => {
    switch (value) {
      case 'vcpu-signature':
        return BigInt(inputs.vcpuSignature);
      case 'guest-features':
        return inputs.guestFeatures;
      case 'reset-eip-base':
        return BigInt((inputs.eip & 0xffff0000) >>> 0);
      case 'reset-eip-offset':
        return BigInt(inputs.eip & 0xffff);
      default:
        return value;
    }
  };
  return VMM_RESET_STATE[inputs.vmmType]
    .filter((s) => s.vcpu === undefined || s.vcpu === role)
    .map((s) => ({ field: vmsaField(s.field).name, value: resolve(s.value), from: s.from }));
}

/** The field values of the initial VMSA (zero fields left out), ready for encodeVmsa. */
export function resetVmsaValues(inputs: ResetInputs): VmsaValues {
  return Object.fromEntries(
    resetSettings(inputs)
      .filter((s) => s.value !== 0n)
      .map((s) => [s.field, s.value]),
  );
}
