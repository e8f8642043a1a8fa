import { PackedStruct } from '@snp-ref/psp-firmware';

// The KVM SEV uAPI (include/uapi/linux/kvm.h; docs/spec-notes.md §3). These structs are not
// __packed: the offsets below are the natural-alignment layout a C compiler gives them, which
// src/uapi/uapi_layout.c checks against the machine's compiler. Bytes no field names are padding.

/** struct kvm_sev_cmd, the envelope of every KVM_MEMORY_ENCRYPT_OP: 24 bytes. */
export const KvmSevCmd = new PackedStruct('struct kvm_sev_cmd', 24, {
  id: [0, 'u32'],
  /** User pointer to the command's own struct. */
  data: [8, 'u64'],
  /** Firmware status (SEV_RET_*), written back even when the ioctl fails. */
  error: [16, 'u32'],
  sevFd: [20, 'u32'],
});

/**
 * struct kvm_sev_snp_launch_start: the guest policy, GOSVW and flags of KVM_SEV_SNP_LAUNCH_START, 64 bytes.
 */
export const KvmSevSnpLaunchStart = new PackedStruct('struct kvm_sev_snp_launch_start', 64, {
  policy: [0, 'u64'],
  gosvw: [8, { bytes: 16 }],
  flags: [24, 'u16'],
});

/**
 * struct kvm_sev_snp_launch_update as reviewed, byte for byte as Linux 6.11 merged it
 * (docs/spec-notes.md §3.2): the guest frame AND the userspace address, a byte length and a page
 * type. One codec serves both flavours.
 * @conforms uapi.kvm_sev_snp_launch_update
 * @conforms uapi.kvm_sev_snp_launch_update upstream
 */
export const KvmSevSnpLaunchUpdate = new PackedStruct('struct kvm_sev_snp_launch_update', 64, {
  gfnStart: [0, 'u64'],
  uaddr: [8, 'u64'],
  len: [16, 'u64'],
  type: [24, 'u8'],
  flags: [26, 'u16'],
});

/**
 * struct kvm_sev_snp_launch_update as posted in RFC v4 (2021): the userspace address only (the gpa
 * came from memslots), a 32-bit length, the IMI flag, page type and VMPL permissions. 17 bytes of
 * fields, 24 with the tail padding of its u64 alignment.
 * @conforms uapi.kvm_sev_snp_launch_update v4
 */
export const KvmSevSnpLaunchUpdateV4 = new PackedStruct('struct kvm_sev_snp_launch_update (RFC v4)', 24, {
  uaddr: [0, 'u64'],
  len: [8, 'u32'],
  imiPage: [12, 'u8'],
  pageType: [13, 'u8'],
  vmpl3Perms: [14, 'u8'],
  vmpl2Perms: [15, 'u8'],
  vmpl1Perms: [16, 'u8'],
});

/**
 * struct kvm_sev_snp_launch_finish: the ID block, ID authentication and host data of
 * KVM_SEV_SNP_LAUNCH_FINISH, 88 bytes.
 */
export const KvmSevSnpLaunchFinish = new PackedStruct('struct kvm_sev_snp_launch_finish', 88, {
  idBlockUaddr: [0, 'u64'],
  idAuthUaddr: [8, 'u64'],
  idBlockEn: [16, 'u8'],
  authKeyEn: [17, 'u8'],
  vcekDisabled: [18, 'u8'],
  hostData: [19, { bytes: 32 }],
  flags: [54, 'u16'],
});

/** KVM_SEV_* command ids of SNP VMs (enum sev_cmd_id, include/uapi/linux/kvm.h). */
export const KvmSevCommand = {
  KVM_SEV_SNP_LAUNCH_START: 100,
  KVM_SEV_SNP_LAUNCH_UPDATE: 101,
  KVM_SEV_SNP_LAUNCH_FINISH: 102,
} as const;

/** KVM_SEV_SNP_PAGE_TYPE_*: the firmware's values, without VMSA (include/uapi/linux/kvm.h). */
export const KvmSnpPageType = { NORMAL: 1, ZERO: 3, UNMEASURED: 4, SECRETS: 5, CPUID: 6 } as const;
/** The name of a KVM_SEV_SNP_PAGE_TYPE_* value. */
export type KvmSnpPageTypeName = keyof typeof KvmSnpPageType;

/** ID block and ID auth sizes LAUNCH_FINISH copies from userspace (KVM_SEV_SNP_ID_BLOCK_SIZE, …_ID_AUTH_SIZE). */
export const ID_BLOCK_SIZE = 96;
/** The ID authentication information's size, as LAUNCH_FINISH copies it (KVM_SEV_SNP_ID_AUTH_SIZE). */
export const ID_AUTH_SIZE = 4096;
