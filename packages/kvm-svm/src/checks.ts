import {
  type CommandChecks,
  FIRMWARE_CHECKS,
  type LaunchCommandName,
  type SevStatusName,
} from '@snp-ref/psp-firmware';
import type { ErrnoName } from '@snp-ref/rmp-core';

/** The KVM SNP launch commands whose refusals this catalogue explains. */
export type KvmCommand = 'launch_start' | 'launch_update' | 'launch_finish';

/**
 * Which LAUNCH_UPDATE a VM speaks: the reviewed hva+gpa ABI, the RFC v4 code as posted, or what
 * Linux 6.11 merged (the reviewed struct over guest_memfd; docs/spec-notes.md §3.3, §4).
 */
export type KvmAbi = 'reviewed' | 'v4' | 'upstream';

/** The VM ioctls that give an upstream VM its guest_memfd memory (include/uapi/linux/kvm.h). */
export type GmemIoctl = 'create_guest_memfd' | 'set_user_memory_region' | 'set_memory_attributes';

/** One check that can refuse a command: who makes it, what it returns, what it checks and why. */
export interface Check {
  /** The command, or for a refusal before any command runs, the ioctl that carries them all, or a guest_memfd ioctl. */
  readonly cmd: KvmCommand | 'memory_encrypt_op' | GmemIoctl;
  /** kernel: KVM refuses before or around the firmware (fw_error 0); firmware: the PSP's status. */
  readonly side: 'kernel' | 'firmware';
  readonly errno: ErrnoName;
  readonly fwError?: SevStatusName;
  /** Only in this KVM ABI flavour (abi), or only in these (abis); every flavour when both are absent. */
  readonly abi?: KvmAbi;
  readonly abis?: readonly KvmAbi[];
  /**
   * upstream: the errno kvm_gmem_populate returned, which snp_launch_update turns into -EIO
   * (`errno`) like every populate failure (docs/spec-notes.md §3.3 "errors").
   */
  readonly innerErrno?: ErrnoName;
  readonly check: string;
  /** Where the rule comes from: kernel function, firmware ABI section, review point. */
  readonly rule: string;
}

const KSEV = 'arch/x86/kvm/svm/sev.c';
const REVIEW = 'docs/review.md';

const SPEC = 'docs/spec-notes.md';
const kernel = (
  cmd: Check['cmd'],
  errno: ErrnoName,
  check: string,
  rule: string,
  only?: KvmAbi | readonly KvmAbi[],
): Check => ({
  cmd,
  side: 'kernel',
  errno,
  check,
  rule,
  ...(typeof only === 'string' ? { abi: only } : only && { abis: only }),
});
const PRE_GMEM: readonly KvmAbi[] = ['reviewed', 'v4'];
/** A refusal inside kvm_gmem_populate: `inner` there, -EIO from the ioctl, the struct not written back. */
const populate = (inner: ErrnoName, check: string, rule: string): Check => ({
  ...kernel('launch_update', 'EIO', check, `${rule}; ${SPEC} §3.3 (errors), §4`, 'upstream'),
  innerErrno: inner,
});

/**
 * Every refusal of the modelled KVM SNP launch commands, by id. kvm-svm attaches the id to each
 * failure (KvmResult.check); `snp-ref explain` lists the ones that fit a ret/fw_error pair.
 */
export const CHECKS = {
  'memory_encrypt_op.snp_only': kernel(
    'memory_encrypt_op',
    'EPERM',
    'a legacy SEV command (an id below KVM_SEV_SNP_LAUNCH_START, 100) on an SNP VM',
    `${KSEV} sev_mem_enc_ioctl: sev_snp_guest(kvm) && sev_cmd.id < KVM_SEV_SNP_LAUNCH_START`,
  ),
  'memory_encrypt_op.command': kernel(
    'memory_encrypt_op',
    'EINVAL',
    'no KVM command has this id',
    `${KSEV} sev_mem_enc_ioctl: default → -EINVAL`,
  ),
  'launch_start.copy_from_user': kernel(
    'launch_start',
    'EFAULT',
    'the kvm_sev_snp_launch_start struct at data is not mapped in userspace',
    `${KSEV} snp_launch_start: copy_from_user(&params, …)`,
  ),
  'launch_start.state': kernel(
    'launch_start',
    'EINVAL',
    'the VM already has an SNP context',
    `${KSEV} snp_launch_start`,
  ),
  'launch_start.flags': kernel('launch_start', 'EINVAL', 'flags is not 0', `${KSEV} snp_launch_start`),
  'launch_start.policy_mask': kernel(
    'launch_start',
    'EINVAL',
    'the policy sets bits KVM does not accept (above 25, or reserved)',
    `${KSEV} snp_launch_start: params.policy & ~SNP_POLICY_MASK_VALID`,
  ),
  'launch_start.policy_mbo': kernel(
    'launch_start',
    'EINVAL',
    'policy bit 17 (must be one) is clear',
    `${KSEV} snp_launch_start: SNP_POLICY_MASK_RSVD_MBO`,
  ),
  'launch_start.no_page': kernel(
    'launch_start',
    'ENOTTY',
    'no host page for the guest context (snp_context_create returns NULL, as when SNP_GCTX_CREATE fails)',
    `${KSEV} snp_context_create; snp_launch_start: !sev->snp_context → -ENOTTY`,
  ),
  'launch_start.gctx_create': kernel(
    'launch_start',
    'ENOTTY',
    'SNP_GCTX_CREATE failed (the firmware status is in fw_error)',
    `${KSEV} snp_context_create returns NULL → -ENOTTY`,
  ),
  'launch_start.firmware': kernel(
    'launch_start',
    'EIO',
    'SNP_LAUNCH_START or SNP_ACTIVATE failed; the context is decommissioned',
    `${KSEV} snp_launch_start, snp_bind_asid`,
  ),
  'launch_update.copy_from_user': kernel(
    'launch_update',
    'EFAULT',
    'the LAUNCH_UPDATE struct at data is not mapped in userspace',
    `${KSEV} snp_launch_update: copy_from_user(&params, …)`,
  ),
  'launch_update.state': kernel(
    'launch_update',
    'EINVAL',
    'the VM is not launching: no LAUNCH_START yet (reviewed, v4: or already finished; upstream lets a finished guest through to the firmware, INVALID_GUEST_STATE)',
    `${KSEV} snp_launch_update: sev_snp_guest()`,
  ),
  'launch_update.flags': kernel('launch_update', 'EINVAL', 'flags is not 0', `${KSEV} snp_launch_update`),
  'launch_update.type': kernel(
    'launch_update',
    'EINVAL',
    'type is not a KVM_SEV_SNP_PAGE_TYPE_* (VMSA is not one)',
    `${KSEV} snp_launch_update; include/uapi/linux/kvm.h`,
  ),
  'launch_update.len': kernel(
    'launch_update',
    'EINVAL',
    'len is 0 or not a multiple of 4096',
    `${KSEV} snp_launch_update: !params.len || !PAGE_ALIGNED(params.len)`,
  ),
  'launch_update.hva': kernel(
    'launch_update',
    'EINVAL',
    'uaddr is not 4 KiB aligned (upstream: unless the type is ZERO, whose uaddr is ignored), or uaddr + len overflows (reviewed, v4)',
    `${KSEV} snp_launch_update: PAGE_ALIGNED(uaddr) (upstream: a later patch, ${SPEC} §3.3); sev_pin_memory: uaddr + ulen < uaddr`,
  ),
  'launch_update.gpa': kernel(
    'launch_update',
    'EINVAL',
    'the gpa is not 4 KiB aligned, or gpa + len is beyond the 51-bit guest physical address space',
    `${REVIEW}: userspace passes hva and gpa`,
    'reviewed',
  ),
  'launch_update.no_memslot': kernel(
    'launch_update',
    'EINVAL',
    'no memslot maps a page of the hva range (the gpa comes from the memslot)',
    `RFC v4 snp_launch_update: hva_to_gfn under kvm->srcu; ${REVIEW} point 1`,
    'v4',
  ),
  'launch_update.pin': kernel(
    'launch_update',
    'EFAULT',
    'a page of the hva range is not mapped, so pinning fails (and unpins what it pinned)',
    `${KSEV} sev_pin_memory`,
    PRE_GMEM,
  ),
  'launch_update.alloc': kernel(
    'launch_update',
    'ENOMEM',
    'an allocation returned NULL (the page array before pinning, the pfn list after it); what was pinned is released',
    `${KSEV} sev_pin_memory: kmalloc/__vmalloc of the page array, -ENOMEM`,
    PRE_GMEM,
  ),
  'launch_update.assigned': kernel(
    'launch_update',
    'EBUSY',
    'the page is already assigned (the optional sanity check, rejectAssignedOnUpdate, refuses to reassign it)',
    `${REVIEW}: rejectAssignedOnUpdate`,
    PRE_GMEM,
  ),
  'launch_update.rmpupdate': kernel(
    'launch_update',
    'EFAULT',
    'RMPUPDATE of the page failed (its return code is rmpRet)',
    `${KSEV} rmp_make_private; arch/x86/virt/svm/sev.c rmpupdate()`,
    PRE_GMEM,
  ),
  'launch_update.firmware': kernel(
    'launch_update',
    'EIO',
    'SNP_LAUNCH_UPDATE failed: the firmware status is fw_error; the pages this call changed are reverted',
    `${KSEV} snp_launch_update; ${REVIEW}: revert only what was touched`,
    PRE_GMEM,
  ),
  'launch_update.copy_to_user': kernel(
    'launch_update',
    'EFAULT',
    'the progress (gfn_start, uaddr, len) cannot be written back to the struct',
    `${KSEV} snp_launch_update: copy_to_user(…, &params, …)`,
    ['reviewed', 'upstream'],
  ),
  'launch_update.no_gmem': kernel(
    'launch_update',
    'EINVAL',
    'no memslot holds gfn_start, or its memslot has no guest_memfd (kvm_slot_can_be_private)',
    `${KSEV} snp_launch_update: gfn_to_memslot under kvm->slots_lock (which excludes memslot updates, not kvm->srcu); ${SPEC} §3.3`,
    'upstream',
  ),
  'launch_update.populate_prepared': populate(
    'EEXIST',
    'the guest_memfd page behind the gfn was already populated (prepared) by an earlier LAUNCH_UPDATE',
    'virt/kvm/guest_memfd.c kvm_gmem_populate: is_prepared → -EEXIST',
  ),
  'launch_update.populate_not_private': populate(
    'EINVAL',
    'the gfn is not private: KVM_SET_MEMORY_ATTRIBUTES(PRIVATE) was not called for it',
    'virt/kvm/guest_memfd.c kvm_gmem_populate: kvm_range_has_memory_attributes(…, KVM_MEMORY_ATTRIBUTE_PRIVATE)',
  ),
  'launch_update.populate_assigned': populate(
    'EEXIST',
    'the guest_memfd page is already assigned in the RMP (the firmware never ran: fw_error 0)',
    `${KSEV} sev_gmem_post_populate: snp_lookup_rmpentry, assigned → -EEXIST`,
  ),
  'launch_update.populate_copy': populate(
    'EFAULT',
    'copying the source page from uaddr failed (not mapped); nothing was changed for it',
    `${KSEV} sev_gmem_post_populate: copy_from_user(vaddr, src + i * PAGE_SIZE, PAGE_SIZE)`,
  ),
  'launch_update.populate_rmpupdate': populate(
    'EFAULT',
    'RMPUPDATE making the guest_memfd page private failed (its return code is rmpRet)',
    `${KSEV} sev_gmem_post_populate: rmp_make_private; arch/x86/virt/svm/sev.c rmpupdate() → -EFAULT`,
  ),
  'launch_update.populate_firmware': populate(
    'EIO',
    'SNP_LAUNCH_UPDATE of the page failed: fw_error is its status; only that page is reclaimed (a CPUID page refused with INVALID_PARAM is copied back to uaddr, as the firmware corrected it)',
    `${KSEV} sev_gmem_post_populate: fw_err → snp_page_reclaim, CPUID copy_to_user`,
  ),
  'launch_finish.copy_from_user': kernel(
    'launch_finish',
    'EFAULT',
    'the kvm_sev_snp_launch_finish struct at data is not mapped in userspace',
    `${KSEV} snp_launch_finish: copy_from_user(&params, …)`,
  ),
  'launch_finish.state': kernel(
    'launch_finish',
    'EINVAL',
    'the VM is not launching',
    `${KSEV} snp_launch_finish`,
  ),
  'launch_finish.flags': kernel('launch_finish', 'EINVAL', 'flags is not 0', `${KSEV} snp_launch_finish`),
  'launch_finish.no_page': kernel(
    'launch_finish',
    'ENOMEM',
    'no host page for a VMSA or the ID block',
    `${KSEV} snp_launch_finish`,
  ),
  'launch_finish.vmsa_rmpupdate': kernel(
    'launch_finish',
    'EFAULT',
    "RMPUPDATE of a vCPU's VMSA page failed",
    `${KSEV} snp_launch_update_vmsa`,
  ),
  'launch_finish.id_block': kernel(
    'launch_finish',
    'EFAULT',
    'the ID block or ID auth is not mapped in userspace',
    `${KSEV} snp_launch_finish: copy_from_user`,
  ),
  'launch_finish.firmware': kernel(
    'launch_finish',
    'EIO',
    'SNP_LAUNCH_UPDATE of a VMSA, or SNP_LAUNCH_FINISH, failed: the firmware status is fw_error',
    `${KSEV} snp_launch_finish`,
  ),
  'create_guest_memfd.size': kernel(
    'create_guest_memfd',
    'EINVAL',
    'the size is zero or not a multiple of 4096',
    'virt/kvm/guest_memfd.c kvm_gmem_create: size <= 0 || !PAGE_ALIGNED(size)',
    'upstream',
  ),
  'set_user_memory_region.gmem': kernel(
    'set_user_memory_region',
    'EINVAL',
    'the guest_memfd belongs to another VM, the offset is not 4 KiB aligned, offset + size is past its end, or that range is bound to another memslot',
    'virt/kvm/guest_memfd.c kvm_gmem_bind',
    'upstream',
  ),
  'set_user_memory_region.gmem_immutable': kernel(
    'set_user_memory_region',
    'EINVAL',
    'the memslot exists: a guest_memfd memslot can only be created or deleted, never moved or changed',
    'virt/kvm/kvm_main.c __kvm_set_memory_region: "Private memslots are immutable, they can only be deleted"',
    'upstream',
  ),
  'set_memory_attributes.range': kernel(
    'set_memory_attributes',
    'EINVAL',
    'the size is zero, the address or size is not 4 KiB aligned, or address + size overflows',
    'virt/kvm/kvm_main.c kvm_vm_ioctl_set_mem_attributes',
    'upstream',
  ),
} satisfies Record<string, Check>;

/** The id of a check KVM makes (a key of CHECKS), as a refusal names it. */
export type CheckId = keyof typeof CHECKS;

/** The firmware commands each KVM command issues (arch/x86/kvm/svm/sev.c): their refusals are its EIO. */
const ISSUES: readonly (readonly [KvmCommand, LaunchCommandName])[] = [
  ['launch_update', 'SNP_LAUNCH_UPDATE'],
  ['launch_start', 'SNP_LAUNCH_START'],
  ['launch_start', 'SNP_ACTIVATE'], // snp_bind_asid
  ['launch_finish', 'SNP_LAUNCH_FINISH'],
  ['launch_finish', 'SNP_LAUNCH_UPDATE'], // the VMSAs, snp_launch_update_vmsa
];

/** What the firmware checks behind each status a KVM command can get from it: psp-firmware's catalogue. */
const FIRMWARE_SIDE: readonly Check[] = ISSUES.flatMap(([cmd, command]) => {
  const { rule, refusals }: CommandChecks = FIRMWARE_CHECKS[command];
  return refusals.map(
    ([fwError, check]): Check => ({ cmd, side: 'firmware', errno: 'EIO', fwError, check, rule }),
  );
});

/** The firmware's checks behind `fwError` when `cmd` gets it, in the firmware's order. */
export function firmwareChecksFor(cmd: Check['cmd'], fwError: SevStatusName): Check[] {
  return FIRMWARE_SIDE.filter((c) => c.cmd === cmd && c.fwError === fwError);
}

/** Whether `check` can refuse a call of a VM speaking `abi`. */
export const inFlavour = (check: Check, abi: KvmAbi): boolean =>
  (check.abi === undefined && check.abis === undefined) ||
  check.abi === abi ||
  check.abis?.includes(abi) === true;

/**
 * The checks that fit a command's result: kernel ones for fw_error 0, the firmware's for its status.
 * With `abi`, only that flavour's. Without it, every flavour's but upstream's populate refusals:
 * they all return EIO (innerErrno tells them apart), so only `abi: 'upstream'` lists them.
 */
export function explainFailure(
  cmd: KvmCommand,
  errno: ErrnoName | undefined,
  fwError: SevStatusName | undefined,
  abi?: KvmAbi,
): Check[] {
  const kernelSide = Object.values(CHECKS).filter(
    (c: Check) =>
      c.cmd === cmd &&
      (errno === undefined || c.errno === errno) &&
      (abi === undefined ? c.innerErrno === undefined : inFlavour(c, abi)),
  );
  const firmwareSide = fwError === undefined ? [] : firmwareChecksFor(cmd, fwError);
  return [...kernelSide, ...firmwareSide];
}
