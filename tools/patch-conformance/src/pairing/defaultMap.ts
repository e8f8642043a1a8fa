// The kernel's own names for the model's entities, so a patch posted without our annotations can
// be paired: a function or struct of the series with one of these names is that entity.

/** Where a name was used. */
const RFC_V4 = 'RFC v4 "Add AMD SEV-SNP hypervisor support" Part 2 (2021)';
const UPSTREAM = 'Linux ≥ 6.11';
const REVIEWED = "this project's reviewed series (patches/reviewed.patch)";

export interface KernelName {
  readonly name: string;
  readonly file: string;
  readonly usedBy: readonly string[];
}

/** Entity → the names it has gone by, first the most common. */
export const DEFAULT_MAP: Readonly<Record<string, readonly KernelName[]>> = {
  'kvm.snp_launch_update': [
    // The KVM_SEV_SNP_LAUNCH_UPDATE case of sev_mem_enc_ioctl() calls it.
    { name: 'snp_launch_update', file: 'arch/x86/kvm/svm/sev.c', usedBy: [RFC_V4, UPSTREAM, REVIEWED] },
  ],
  'uapi.kvm_sev_snp_launch_update': [
    // include/uapi/linux/kvm.h in RFC v4; arch/x86/include/uapi/asm/kvm.h upstream.
    { name: 'kvm_sev_snp_launch_update', file: 'kvm.h (uAPI)', usedBy: [RFC_V4, UPSTREAM, REVIEWED] },
  ],
  'virt.rmpupdate': [
    // arch/x86/kernel/sev.c in RFC v4, arch/x86/virt/svm/sev.c upstream: the one RMPUPDATE wrapper.
    { name: 'rmpupdate', file: 'arch/x86/virt/svm/sev.c', usedBy: [RFC_V4, UPSTREAM, REVIEWED] },
  ],
  'virt.reset_to_hypervisor': [
    // Back to hypervisor-owned: assigned 0, only the page size set (rmp_make_shared(pfn, PG_LEVEL_4K)).
    // A dedicated reset, where a series has one, before the general helper.
    { name: 'rmp_reset_to_hypervisor', file: 'arch/x86/virt/svm/sev.c', usedBy: [REVIEWED] },
    { name: 'rmp_make_shared', file: 'arch/x86/virt/svm/sev.c', usedBy: [RFC_V4, UPSTREAM] },
  ],
  'kvm.gmem_post_populate': [
    // What snp_launch_update hands kvm_gmem_populate() (virt/kvm/guest_memfd.c) to call per chunk.
    { name: 'sev_gmem_post_populate', file: 'arch/x86/kvm/svm/sev.c', usedBy: [UPSTREAM] },
  ],
  'kvm.revert_touched': [{ name: 'snp_revert_touched', file: 'arch/x86/kvm/svm/sev.c', usedBy: [REVIEWED] }],
};

/**
 * What the rules check of the C through each entity, so a report can say what an unpaired one
 * leaves unchecked. The others (the model's own reset and revert helpers) pair only to be listed.
 */
export const CHECKED_THROUGH: Readonly<Record<string, string>> = {
  'kvm.snp_launch_update': 'every rule starts from it',
  'uapi.kvm_sev_snp_launch_update':
    'uapi-hva-and-gpa and uapi-codec-layout (review point 1) and the flavour inference need it',
  'virt.rmpupdate': 'traced-rmpupdate (review point 4) needs it',
};
