// The kernel APIs behind each review concern, as data. Every entry names where torvalds/linux
// defines it (file, then the function, macro or member); the few that exist only in this project's
// reviewed series or in RFC v4 say so. The static rules look names up here instead of guessing
// from how a patch spells its own variables.

/** What a kernel API means to the review. */
export type Concern =
  | 'memslot' // looks up memslots or takes the locks that guard them (review point 1)
  | 'huge-page' // a page size or level other than 4 KiB (review point 2)
  | 'pin' // pins user pages, returning them (review point 6)
  | 'release' // marks or unpins pinned pages (review point 6)
  | 'rmp-read' // reads an RMP entry (review point 4: the entry before and after)
  | 'rmp-write' // changes an RMP entry (review points 4 and 6)
  | 'firmware' // issues an SEV firmware command
  | 'harmless'; // none of the above: logging, checks, arithmetic, allocation, copies

export type Release = 'dirty' | 'accessed' | 'unpin';

/** How an RMP write goes: through the traced rmpupdate(), making a page private, resetting it, or raw. */
export type RmpWrite = 'traced' | 'private' | 'reset' | 'raw';

/**
 * What a field of the LAUNCH_UPDATE uAPI struct is to launch update (review point 1): the
 * userspace address of the pages, their guest address, the length, the page type.
 */
export const UAPI_ROLES = ['hva', 'gpa', 'len', 'type'] as const;
export type UapiRole = (typeof UAPI_ROLES)[number];

/** An argument by position, or a member of the struct that argument points to. */
export interface ArgRef {
  readonly arg: number;
  readonly member?: string;
}

export interface KernelApi {
  readonly name: string;
  /** How C mentions it: called, as a macro constant, as a struct member, as a struct type. */
  readonly form: 'call' | 'macro' | 'field' | 'type';
  readonly concern: Concern;
  readonly releases?: readonly Release[];
  readonly write?: RmpWrite;
  /** The arguments that take a launch-update role: a pin's user address and length, an RMP assignment's gpa … */
  readonly takes?: Readonly<Partial<Record<UapiRole, ArgRef>>>;
  /** It returns this argument's value in another unit or type (gfn_to_gpa(), u64_to_user_ptr()). */
  readonly converts?: number;
  /** A copy from userspace: the argument it fills. */
  readonly fills?: number;
  /** Where it is defined: a torvalds/linux path and the function or macro (or the series that has it). */
  readonly source: string;
}

type Extra = Pick<KernelApi, 'releases' | 'write' | 'takes' | 'converts' | 'fills'>;

/** Several APIs of one concern, form and source file. */
const group = (
  concern: Concern,
  form: KernelApi['form'],
  file: string,
  names: readonly string[],
  extra: Extra = {},
): KernelApi[] => names.map((name) => ({ name, form, concern, source: `${file} (${name})`, ...extra }));

const KVM_MAIN = 'virt/kvm/kvm_main.c';
const KVM_HOST = 'include/linux/kvm_host.h';
const VIRT_SEV = 'arch/x86/virt/svm/sev.c';
const KVM_SEV = 'arch/x86/kvm/svm/sev.c';
const GUP = 'mm/gup.c';
/** This project's reviewed series (patches/reviewed.patch; the harness shim declares them). */
const REVIEWED_SERIES = 'snp-ref reviewed series, patches/reviewed.patch';
/** RFC v4 "KVM: SVM: Add KVM_SEV_SNP_LAUNCH_UPDATE command" (2021), restated in patches/v4.patch. */
const RFC_V4 = 'RFC v4 series, patches/v4.patch';
const RMP_STATE_GPA = { gpa: { arg: 1, member: 'gpa' } };

export const KERNEL_APIS: readonly KernelApi[] = [
  // Review point 1: gfn→hva and memslot lookups, and the locks that guard the memslots.
  ...group('memslot', 'call', KVM_MAIN, [
    'gfn_to_hva',
    'gfn_to_hva_prot',
    'gfn_to_hva_memslot',
    'gfn_to_hva_memslot_prot',
    'kvm_vcpu_gfn_to_hva',
    'kvm_vcpu_gfn_to_hva_prot',
    'kvm_vcpu_gfn_to_memslot',
    'kvm_vcpu_gfn_to_page',
    'kvm_vcpu_gfn_to_pfn',
    'kvm_vcpu_map',
    'gfn_to_memslot',
    'gfn_to_page',
    'gfn_to_pfn',
    'gfn_to_pfn_prot',
    'gfn_to_pfn_memslot',
    '__gfn_to_pfn_memslot', // before v6.12 (kvm_follow_pfn replaced it)
    '__kvm_faultin_pfn',
    'kvm_read_guest_page',
    'kvm_write_guest_page',
  ]),
  ...group('memslot', 'call', KVM_HOST, [
    'id_to_memslot',
    'kvm_memslots',
    '__kvm_memslots',
    'kvm_vcpu_memslots',
    '__gfn_to_memslot',
    '__gfn_to_hva_memslot',
    'hva_to_gfn_memslot',
    'kvm_for_each_memslot',
  ]),
  // kvm_gmem_populate(kvm, start_gfn, src, npages, post_populate, opaque): the gfn, the user source, the count.
  ...group('memslot', 'call', 'virt/kvm/guest_memfd.c', ['kvm_gmem_populate'], {
    takes: { gpa: { arg: 1 }, hva: { arg: 2 }, len: { arg: 3 } },
  }),
  ...group('memslot', 'call', 'virt/kvm/guest_memfd.c', ['kvm_gmem_get_pfn']),
  ...group('memslot', 'call', RFC_V4, ['hva_to_memslot']),
  // struct kvm's members: the memslot arrays, the srcu that readers hold, the lock writers take.
  ...group('memslot', 'field', `${KVM_HOST} struct kvm`, ['srcu', 'slots_lock', 'memslots', '__memslots']),
  ...group('memslot', 'type', KVM_HOST, ['kvm_memory_slot', 'kvm_memslots']),

  // Review point 2: sizes, shifts and masks of huge pages, and the page-level indirection.
  ...group('huge-page', 'macro', 'arch/x86/include/asm/pgtable_64_types.h', [
    'PMD_SIZE',
    'PMD_SHIFT',
    'PMD_MASK',
    'PUD_SIZE',
    'PUD_SHIFT',
    'PTRS_PER_PMD',
  ]),
  ...group('huge-page', 'macro', 'arch/x86/include/asm/page_types.h', [
    'HPAGE_SIZE',
    'HPAGE_SHIFT',
    'HPAGE_MASK',
  ]),
  ...group('huge-page', 'macro', 'include/linux/huge_mm.h', [
    'HPAGE_PMD_SIZE',
    'HPAGE_PMD_SHIFT',
    'HPAGE_PMD_MASK',
    'HPAGE_PMD_NR',
    'HPAGE_PMD_ORDER',
  ]),
  ...group('huge-page', 'macro', 'arch/x86/include/asm/pgtable_types.h enum pg_level', [
    'PG_LEVEL_2M',
    'PG_LEVEL_1G',
  ]),
  ...group('huge-page', 'call', 'arch/x86/include/asm/pgtable_types.h', [
    'page_level_size',
    'page_level_mask',
    'page_level_shift',
  ]),
  ...group('huge-page', 'macro', 'arch/x86/include/asm/sev.h', ['RMP_PG_SIZE_2M']),
  ...group('huge-page', 'call', 'arch/x86/include/asm/sev.h', ['RMP_TO_PG_LEVEL', 'PG_LEVEL_TO_RMP']),
  ...group('huge-page', 'call', RFC_V4, ['X86_TO_RMP_PG_LEVEL']),
  ...group('huge-page', 'macro', 'arch/x86/include/asm/kvm_host.h', [
    'KVM_HPAGE_SIZE',
    'KVM_HPAGE_SHIFT',
    'KVM_HPAGE_MASK',
    'KVM_PAGES_PER_HPAGE',
    'KVM_HPAGE_GFN_SHIFT',
  ]),
  ...group('huge-page', 'macro', 'include/linux/sizes.h', ['SZ_2M', 'SZ_1G']),
  ...group('huge-page', 'call', 'include/linux/page-flags.h', ['PageTransCompound', 'PageHuge']),

  // Review point 6: pinning user pages, and what releases them. Each takes the user address and a
  // page count (pin_user_pages(start, nr_pages, gup_flags, pages) …; the _remote one after its mm).
  ...group(
    'pin',
    'call',
    GUP,
    [
      'pin_user_pages',
      'pin_user_pages_fast',
      'pin_user_pages_unlocked',
      'get_user_pages',
      'get_user_pages_fast',
      'get_user_pages_unlocked',
    ],
    { takes: { hva: { arg: 0 }, len: { arg: 1 } } },
  ),
  ...group('pin', 'call', GUP, ['pin_user_pages_remote'], { takes: { hva: { arg: 1 }, len: { arg: 2 } } }),
  // sev_pin_memory(kvm, uaddr, ulen, n, flags); sev_pin_user_range(kvm, uaddr, npages).
  ...group('pin', 'call', KVM_SEV, ['sev_pin_memory'], { takes: { hva: { arg: 1 }, len: { arg: 2 } } }),
  ...group('pin', 'call', REVIEWED_SERIES, ['sev_pin_user_range'], {
    takes: { hva: { arg: 1 }, len: { arg: 2 } },
  }),
  ...group('release', 'call', 'mm/page-writeback.c', ['set_page_dirty_lock'], { releases: ['dirty'] }),
  ...group('release', 'call', 'mm/folio-compat.c', ['set_page_dirty'], { releases: ['dirty'] }),
  ...group('release', 'call', 'mm/page-writeback.c', ['folio_mark_dirty'], { releases: ['dirty'] }),
  ...group('release', 'call', 'mm/folio-compat.c', ['mark_page_accessed'], { releases: ['accessed'] }),
  ...group('release', 'call', 'mm/swap.c', ['folio_mark_accessed'], { releases: ['accessed'] }),
  ...group('release', 'call', GUP, ['unpin_user_page', 'unpin_user_pages', 'unpin_folio'], {
    releases: ['unpin'],
  }),
  // With make_dirty set it dirties each page before unpinning; it marks none accessed.
  ...group('release', 'call', GUP, ['unpin_user_pages_dirty_lock', 'unpin_user_page_range_dirty_lock'], {
    releases: ['dirty', 'unpin'],
  }),
  // Drops the reference get_user_pages() took.
  ...group('release', 'call', 'include/linux/mm.h', ['put_page'], { releases: ['unpin'] }),
  // unpin_user_pages() and the locked-memory accounting; no dirty or accessed marks.
  ...group('release', 'call', KVM_SEV, ['sev_unpin_memory'], { releases: ['unpin'] }),

  // Review points 4 and 6: RMP reads and writes.
  ...group('rmp-read', 'call', VIRT_SEV, ['snp_lookup_rmpentry', '__snp_lookup_rmpentry', 'dump_rmpentry']),
  ...group('rmp-read', 'call', REVIEWED_SERIES, ['snp_read_rmpentry', 'snp_rmp_immutable']),
  // rmpupdate(pfn, state): the guest address is state->gpa (struct rmp_state, arch/x86/include/asm/sev.h).
  ...group('rmp-write', 'call', VIRT_SEV, ['rmpupdate'], { write: 'traced', takes: RMP_STATE_GPA }),
  // rmp_make_private(pfn, gpa, level, asid, immutable).
  ...group('rmp-write', 'call', VIRT_SEV, ['rmp_make_private'], {
    write: 'private',
    takes: { gpa: { arg: 1 } },
  }),
  ...group('rmp-write', 'call', VIRT_SEV, ['rmp_make_shared'], { write: 'reset' }),
  ...group('rmp-write', 'call', KVM_SEV, ['kvm_rmp_make_shared', 'snp_page_reclaim'], { write: 'reset' }),
  ...group('rmp-write', 'call', REVIEWED_SERIES, ['rmp_reset_to_hypervisor'], { write: 'reset' }),
  // The instruction itself, without the tracepoint (rmpupdate()'s inline asm in arch/x86/virt/svm/sev.c).
  ...group('rmp-write', 'call', REVIEWED_SERIES, ['__rmpupdate'], { write: 'raw', takes: RMP_STATE_GPA }),

  // The command buffer of SNP_LAUNCH_UPDATE (struct sev_data_snp_launch_update, include/linux/psp-sev.h)
  // has the page type and no guest address: the firmware takes that from the page's RMP entry.
  // sev_issue_cmd(kvm, id, data, error), __sev_issue_cmd(fd, id, data, error).
  ...group('firmware', 'call', KVM_SEV, ['sev_issue_cmd', '__sev_issue_cmd'], {
    takes: { type: { arg: 2, member: 'page_type' } },
  }),
  // sev_do_cmd(cmd, data, psp_ret), __sev_do_cmd_locked(cmd, data, psp_ret).
  ...group('firmware', 'call', 'drivers/crypto/ccp/sev-dev.c', ['sev_do_cmd', '__sev_do_cmd_locked'], {
    takes: { type: { arg: 1, member: 'page_type' } },
  }),

  // Known to touch none of the concerns: the vocabulary the harness shim provides (shim/snp_shim.h).
  ...group('harmless', 'call', 'include/linux/printk.h', [
    'printk',
    'pr_debug',
    'pr_info',
    'pr_notice',
    'pr_warn',
    'pr_err',
    'pr_warn_once',
    'pr_err_once',
    'pr_warn_ratelimited',
    'pr_err_ratelimited',
  ]),
  ...group('harmless', 'call', 'include/asm-generic/bug.h', [
    'WARN_ON',
    'WARN_ON_ONCE',
    'WARN',
    'WARN_ONCE',
    'BUG_ON',
    'BUG',
  ]),
  ...group('harmless', 'call', 'include/linux/compiler.h', ['likely', 'unlikely', 'READ_ONCE', 'WRITE_ONCE']),
  ...group('harmless', 'call', 'include/linux/kernel.h', ['might_sleep', 'cond_resched']),
  ...group('harmless', 'call', 'include/linux/kernel.h', ['u64_to_user_ptr'], { converts: 0 }),
  ...group('harmless', 'call', 'include/linux/minmax.h', ['min', 'max', 'min_t', 'max_t', 'clamp']),
  ...group('harmless', 'call', 'include/linux/overflow.h', [
    'check_add_overflow',
    'check_mul_overflow',
    'array_size',
    'struct_size',
  ]),
  ...group('harmless', 'call', 'include/linux/slab.h', [
    'kmalloc',
    'kzalloc',
    'kcalloc',
    'kmalloc_array',
    'kvmalloc',
    'kvzalloc',
    'kvcalloc',
    'kvmalloc_array',
    'kfree',
    'kvfree',
  ]),
  // copy_from_user(to, from, n): reads the user address `from` into `to`.
  ...group('harmless', 'call', 'include/linux/uaccess.h', ['copy_from_user'], {
    takes: { hva: { arg: 1 } },
    fills: 0,
  }),
  ...group('harmless', 'call', 'include/linux/uaccess.h', ['copy_to_user']),
  ...group('harmless', 'call', 'include/linux/err.h', ['IS_ERR', 'IS_ERR_OR_NULL', 'PTR_ERR', 'ERR_PTR']),
  ...group('harmless', 'call', 'include/linux/align.h', ['IS_ALIGNED', 'ALIGN', 'PAGE_ALIGNED']),
  ...group('harmless', 'call', 'include/asm-generic/memory_model.h', ['page_to_pfn', 'pfn_to_page']),
  ...group('harmless', 'call', 'include/linux/mm.h', ['page_address']),
  ...group('harmless', 'call', 'include/linux/psp-sev.h', ['__psp_pa']),
  ...group('harmless', 'call', 'include/linux/mem_encrypt.h', ['__sme_set', '__sme_clr']),
  ...group('harmless', 'call', 'arch/x86/include/asm/mem_encrypt.h', ['__sme_page_pa']),
  ...group('harmless', 'call', KVM_HOST, ['gfn_to_gpa', 'gpa_to_gfn'], { converts: 0 }),
  ...group('harmless', 'call', KVM_HOST, ['kvm_is_error_hva', 'kvm_get_vcpu']),
  ...group('harmless', 'call', 'arch/x86/kvm/svm/svm.h', [
    'to_kvm_sev_info',
    'to_kvm_svm',
    'sev_get_asid',
    'sev_snp_guest',
  ]),
  // A predicate on a memslot already looked up (its KVM_MEM_GUEST_MEMFD flag): no lookup, no lock.
  ...group('harmless', 'call', KVM_HOST, ['kvm_slot_can_be_private', 'pfn_to_hpa']),
  // A temporary kernel mapping of one page, to copy into it.
  ...group('harmless', 'call', 'include/linux/highmem-internal.h', ['kmap_local_pfn', 'kunmap_local']),
  ...group('harmless', 'call', 'include/linux/string.h', ['memset', 'memcpy']),
  ...group('harmless', 'call', 'include/linux/mutex.h', ['mutex_lock', 'mutex_unlock']),
  ...group('harmless', 'call', 'include/linux/srcu.h', ['srcu_read_lock', 'srcu_read_unlock']),
  // Keeps a page away from the allocator forever: no RMP write, no release of the pin.
  ...group('harmless', 'call', VIRT_SEV, ['snp_leak_pages']),
  // Queries: whether a uAPI page type is valid, whether a page was leaked.
  ...group('harmless', 'call', REVIEWED_SERIES, ['snp_kvm_page_type_valid', 'snp_page_leaked']),
];

const BY_NAME = new Map(KERNEL_APIS.map((api) => [`${api.form}:${api.name}`, api]));

/** The catalogue's entry for a name in a form, if any. */
export function kernelApi(form: KernelApi['form'], name: string): KernelApi | undefined {
  return BY_NAME.get(`${form}:${name}`);
}

/** Tracepoints are `trace_<event>()` (include/linux/tracepoint.h, DECLARE_TRACE): they only record. */
export const isTracepoint = (name: string): boolean => /^trace_\w+$/.test(name);

/**
 * The RMPUPDATE instruction in inline assembly: its mnemonic or its encoding
 * (arch/x86/virt/svm/sev.c rmpupdate(): `.byte 0xF2, 0x0F, 0x01, 0xFE`).
 */
export const RMPUPDATE_ASM = /rmpupdate|0xf2\s*,\s*0x0f\s*,\s*0x01\s*,\s*0xfe/i;
