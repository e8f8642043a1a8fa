import { BSP_RESET_EIP, encodeVmsa, resetVmsaValues, type VmmType } from '@snp-ref/psp-firmware';

/**
 * The vCPU state KVM builds each VMSA from at LAUNCH_FINISH (sev_es_sync_vmsa, arch/x86/kvm/svm/sev.c),
 * as the VMM set it: the same VMM reset profiles as `snp-ref measure` (psp-firmware vmsa/), so that a
 * launch's measurement can be compared with it.
 */
export interface VmsaProfile {
  readonly vmmType: VmmType;
  /** CPUID Fn0000_0001 EAX of the vCPU type (QEMU puts it in RDX at reset). */
  readonly vcpuSignature: number;
  /** SEV_FEATURES of every VMSA. */
  readonly guestFeatures: bigint;
  /**
   * The APs' reset EIP: the OVMF SEV-ES reset block's, which QEMU loads into the APs (what
   * `snp-ref measure` reads from the image). Default, the model's choice: the BSP's reset vector
   * (a launch needs the reset block for APs; sev-snp-measure refuses an image without it).
   */
  readonly apResetEip?: number;
}

/** The VMSA page of vCPU `vcpu` (0 is the BSP, at the reset vector; the APs at apResetEip). */
export function vmsaPage(profile: VmsaProfile, vcpu: number): Uint8Array {
  const eip = vcpu === 0 ? BSP_RESET_EIP : (profile.apResetEip ?? BSP_RESET_EIP);
  return encodeVmsa(resetVmsaValues({ ...profile, eip }));
}
