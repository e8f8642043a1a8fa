import { KvmSnpPageType } from '@snp-ref/kvm-svm';

/**
 * A scenario's page-type names (the `type` of snp.launch_update) and the value KVM's
 * LAUNCH_UPDATE receives for each. `vmsa` is the firmware's type 2, which KVM refuses
 * (arch/x86/include/uapi/linux/kvm.h lists no VMSA type for userspace).
 */
export const PAGE_TYPES: Readonly<Record<string, number>> = {
  normal: KvmSnpPageType.NORMAL,
  vmsa: 2,
  zero: KvmSnpPageType.ZERO,
  unmeasured: KvmSnpPageType.UNMEASURED,
  secrets: KvmSnpPageType.SECRETS,
  cpuid: KvmSnpPageType.CPUID,
};
