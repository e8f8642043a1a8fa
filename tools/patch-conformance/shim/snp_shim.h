/*
 * User-space stand-ins for the kernel interfaces a launch path uses, so a patch's C compiles and
 * runs on the host: a small RMP, pinned pages with dirty/accessed marks, a scripted PSP, fault
 * injection at every call that can fail, and the kernel's everyday vocabulary (logging, WARN/BUG,
 * allocation, min/max and overflow helpers, pin and user-copy helpers, locks as no-ops). Names and
 * semantics follow the kernel headers cited at each group; the code is written for snp-conform.
 */
#ifndef SNP_SHIM_H
#define SNP_SHIM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* include/linux/types.h, include/uapi/asm-generic/int-ll64.h */
typedef int8_t s8, __s8;
typedef int16_t s16, __s16;
typedef int32_t s32, __s32;
typedef int64_t s64, __s64;
typedef uint8_t u8, __u8;
typedef uint16_t u16, __u16;
typedef uint32_t u32, __u32;
typedef uint64_t u64, __u64;
typedef unsigned int gfp_t;
typedef u64 phys_addr_t, gfn_t, gpa_t, hva_t, kvm_pfn_t;

/* include/linux/compiler_types.h, compiler_attributes.h: annotations that change no code here. */
#define __user
#define __iomem
#define __rcu
#define __force
#define __must_check
#define __always_inline inline
#define noinline
#define __maybe_unused __attribute__((unused))
#define __init
#define __exit
#define fallthrough __attribute__((fallthrough))
#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
/* include/linux/compiler.h, include/asm-generic/rwonce.h */
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* include/uapi/asm-generic/errno-base.h, errno.h; include/linux/errno.h (ENOTSUPP) */
#define EPERM 1
#define ENOENT 2
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOTTY 25
#define ENOSPC 28
#define ERANGE 34
#define EOPNOTSUPP 95
#define EOVERFLOW 75
#define ETIMEDOUT 110
#define ENOTSUPP 524
/* include/linux/err.h */
#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) ((unsigned long)(x) >= (unsigned long)-MAX_ERRNO)
#define IS_ERR(p) IS_ERR_VALUE(p)
#define IS_ERR_OR_NULL(p) (!(p) || IS_ERR(p))
#define PTR_ERR(p) ((long)(p))
#define ERR_PTR(e) ((void *)(long)(e))
#define ERR_CAST(p) ((void *)(p))

/* include/vdso/bits.h, include/linux/bits.h, include/linux/kernel.h, include/linux/stddef.h */
#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
#define GENMASK(h, l) ((~0UL << (l)) & (~0UL >> (63 - (h))))
#define GENMASK_ULL(h, l) ((~0ULL << (l)) & (~0ULL >> (63 - (h))))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define lower_32_bits(n) ((u32)((n) & 0xffffffff))
#define upper_32_bits(n) ((u32)((u64)(n) >> 32))
#define sizeof_field(T, m) sizeof(((T *)0)->m)
#define container_of(p, T, m) ((T *)((char *)(p) - offsetof(T, m)))

/* include/linux/minmax.h: type-checked in the kernel; plain comparisons here. */
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define umin(a, b) min((u64)(a), (u64)(b))
#define umax(a, b) max((u64)(a), (u64)(b))
#define min_t(T, a, b) min((T)(a), (T)(b))
#define max_t(T, a, b) max((T)(a), (T)(b))
#define clamp(v, lo, hi) min(max(v, lo), hi)
#define clamp_t(T, v, lo, hi) clamp((T)(v), (T)(lo), (T)(hi))
/* include/linux/overflow.h: true when the result wrapped; array_size/struct_size saturate to SIZE_MAX. */
#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define check_sub_overflow(a, b, d) __builtin_sub_overflow(a, b, d)
#define check_mul_overflow(a, b, d) __builtin_mul_overflow(a, b, d)
static inline size_t size_mul(size_t a, size_t b) { size_t r; return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r; }
static inline size_t size_add(size_t a, size_t b) { size_t r; return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r; }
#define array_size(a, b) size_mul(a, b)
#define struct_size(p, member, n) size_add(sizeof(*(p)), size_mul(sizeof(*(p)->member), n))

/* include/asm-generic/page.h, include/linux/mm.h, include/linux/align.h, include/linux/pfn.h */
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PMD_SHIFT 21
#define PMD_SIZE (1UL << PMD_SHIFT)
#define ALIGN(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define PAGE_ALIGN(x) ALIGN(x, PAGE_SIZE)
#define PAGE_ALIGNED(x) IS_ALIGNED((unsigned long)(x), PAGE_SIZE)
#define PFN_DOWN(x) ((x) >> PAGE_SHIFT)
#define PFN_UP(x) (((x) + PAGE_SIZE - 1) >> PAGE_SHIFT)
#define PFN_PHYS(x) ((phys_addr_t)(x) << PAGE_SHIFT)
#define gfn_to_gpa(gfn) ((u64)(gfn) << PAGE_SHIFT)
#define gpa_to_gfn(gpa) ((u64)(gpa) >> PAGE_SHIFT)
/* arch/x86/include/asm/pgtable_types.h, arch/x86/include/asm/sev.h */
#define PG_LEVEL_4K 1
#define PG_LEVEL_2M 2
#define RMP_PG_SIZE_4K 0
#define RMP_PG_SIZE_2M 1
#define X86_TO_RMP_PG_LEVEL(level) ((level) == PG_LEVEL_4K ? RMP_PG_SIZE_4K : RMP_PG_SIZE_2M)
#define page_level_size(level) (PAGE_SIZE << (9 * ((level) - 1)))
#define page_level_mask(level) (~(page_level_size(level) - 1))
#define __sme_set(x) ((x) | (1ULL << 51))
#define __psp_pa(x) ((u64)(uintptr_t)(x))
#define __pa(x) ((u64)(uintptr_t)(x))
#define SEV_CMD_SNP_LAUNCH_UPDATE 0x0A1

/*
 * include/linux/printk.h, dev_printk.h, kvm_host.h: logging is discarded (the harness's stdout is
 * the trace), but the arguments are still evaluated and checked against the format, as
 * no_printk() does for pr_debug without DEBUG.
 */
static inline __attribute__((format(printf, 1, 2))) int snp_no_printk(const char *fmt, ...) { (void)fmt; return 0; }
#define printk(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define pr_emerg(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define pr_alert(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define pr_crit(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define pr_notice(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define pr_cont(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define pr_devel(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define pr_err_ratelimited pr_err
#define pr_warn_ratelimited pr_warn
#define pr_info_ratelimited pr_info
#define pr_debug_ratelimited pr_debug
#define pr_err_once pr_err
#define pr_warn_once pr_warn
#define pr_info_once pr_info
#define dev_err(dev, fmt, ...) ((void)(dev), snp_no_printk(fmt, ##__VA_ARGS__))
#define dev_warn(dev, fmt, ...) ((void)(dev), snp_no_printk(fmt, ##__VA_ARGS__))
#define dev_info(dev, fmt, ...) ((void)(dev), snp_no_printk(fmt, ##__VA_ARGS__))
#define dev_dbg(dev, fmt, ...) ((void)(dev), snp_no_printk(fmt, ##__VA_ARGS__))
#define dev_err_ratelimited dev_err
#define dev_warn_ratelimited dev_warn
#define kvm_err(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define kvm_info(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define kvm_debug(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)
#define kvm_pr_unimpl(fmt, ...) snp_no_printk(fmt, ##__VA_ARGS__)

/*
 * include/asm-generic/bug.h: WARN* evaluate to their condition (logged, so discarded here); BUG()
 * oopses, which the harness reports as a crash of the run (SIGILL from the trap).
 */
#define WARN(cond, fmt, ...) ({ int snp_warn_ = !!(cond); if (snp_warn_) snp_no_printk(fmt, ##__VA_ARGS__); unlikely(snp_warn_); })
#define WARN_ON(cond) ({ int snp_warn_ = !!(cond); unlikely(snp_warn_); })
#define WARN_ONCE WARN
#define WARN_ON_ONCE WARN_ON
#define BUG() __builtin_trap()
#define BUG_ON(cond) do { if (unlikely(cond)) BUG(); } while (0)
#define BUILD_BUG_ON(cond) _Static_assert(!(cond), "BUILD_BUG_ON(" #cond ")")

/*
 * include/linux/kernel.h (might_sleep), sched.h (cond_resched), lockdep.h, mutex.h, spinlock.h,
 * cleanup.h (guard, scoped_guard): one thread runs the harness, so locks are no-ops that still
 * evaluate their operand.
 */
struct mutex { int held; }; /* how many times it is taken: the upstream flow's memslot lookup checks kvm->slots_lock */
typedef struct { int unused; } spinlock_t, rwlock_t;
#define DEFINE_MUTEX(m) struct mutex m
#define might_sleep() ((void)0)
#define cond_resched() ((void)0)
#define lockdep_assert_held(l) ((void)(l))
#define lockdep_assert_held_write(l) ((void)(l))
#define mutex_lock(m) ((void)((m)->held++))
#define mutex_unlock(m) ((void)((m)->held--))
#define mutex_lock_killable(m) ((m)->held++, 0)
#define spin_lock(l) ((void)(l))
#define spin_unlock(l) ((void)(l))
#define guard(type) (void)
#define scoped_guard(type, ...) for (int snp_guard_ = ((void)(__VA_ARGS__), 1); snp_guard_; snp_guard_ = 0)

/* include/linux/gfp_types.h: flags the allocators ignore (they always zero: see snp_alloc). */
#define GFP_KERNEL 0u
#define GFP_KERNEL_ACCOUNT 0u
#define GFP_ATOMIC 0u
#define __GFP_ZERO 0u
#define __GFP_NOWARN 0u
#define PAGE_KERNEL 0
/* include/linux/mm.h (gup flags) */
#define FOLL_WRITE 0x01u
#define FOLL_LONGTERM 0x100u

/* The harness's kernel objects (harness.c). */
struct page { u64 pfn; int pins; bool dirty, accessed, leaked; };
struct rmp_state { u64 gpa; u8 assigned, pagesize, immutable, rsvd; u32 asid; };
struct rmpentry { bool assigned, immutable, validated; u8 pagesize; u32 asid; u64 gpa; };
struct kvm_sev_cmd { u32 id; u32 pad0; u64 data; u32 error; u32 sev_fd; };
struct kvm_sev_info { u32 asid; void *snp_context; bool snp_finished; };
struct kvm { struct kvm_sev_info sev; int srcu; struct mutex lock, slots_lock; };
/* gmem: 1 + the index of the guest_memfd bound to the slot (0: none), at page gmem_pgoff of it. */
struct kvm_memory_slot { u64 base_gfn, userspace_addr, npages; u32 gmem; u64 gmem_pgoff; };
struct sev_data_snp_launch_update {
	u64 gctx_paddr;
	u32 page_size : 1, page_type : 3, imi_page : 1, rsvd : 27;
	u32 rsvd2;
	u64 address;
	u32 rsvd3 : 8, vmpl1_perms : 8, vmpl2_perms : 8, vmpl3_perms : 8;
	u32 rsvd4;
};

/* Allocation (include/linux/slab.h, vmalloc.h): each call is an `alloc` fault site; NULL when injected. */
void *snp_alloc(size_t n, size_t size);
#define kmalloc(size, gfp) ((void)(gfp), snp_alloc(1, size))
#define kzalloc(size, gfp) ((void)(gfp), snp_alloc(1, size))
#define kcalloc(n, size, gfp) ((void)(gfp), snp_alloc(n, size))
#define kmalloc_array(n, size, gfp) ((void)(gfp), snp_alloc(n, size))
#define kvmalloc(size, gfp) ((void)(gfp), snp_alloc(1, size))
#define kvzalloc(size, gfp) ((void)(gfp), snp_alloc(1, size))
#define kvcalloc(n, size, gfp) ((void)(gfp), snp_alloc(n, size))
#define kvmalloc_array(n, size, gfp) ((void)(gfp), snp_alloc(n, size))
#define vmalloc(size) snp_alloc(1, size)
#define vzalloc(size) snp_alloc(1, size)
#define __vmalloc(size, gfp) ((void)(gfp), snp_alloc(1, size))
#define kfree(p) ((void)(p))
#define kvfree(p) ((void)(p))
#define vfree(p) ((void)(p))

/*
 * User memory (include/linux/uaccess.h, kernel.h): copy_{from,to}_user return the bytes NOT copied;
 * get_user/put_user 0 or -EFAULT. Each is a fault site; an address outside the harness's user
 * buffer is not mapped (EFAULT).
 */
unsigned long copy_from_user(void *to, const void *from, unsigned long n);
unsigned long copy_to_user(void *to, const void *from, unsigned long n);
#define get_user(x, ptr) (copy_from_user(&(x), (ptr), sizeof(*(ptr))) ? -EFAULT : 0)
#define put_user(x, ptr) ({ __typeof__(*(ptr)) snp_put_ = (x); copy_to_user((ptr), &snp_put_, sizeof(snp_put_)) ? -EFAULT : 0; })
#define u64_to_user_ptr(x) ((void *)(uintptr_t)(x))

/*
 * Pages (include/linux/mm.h, mm/gup.c, include/linux/swap.h): pinning one page is a `pin` fault
 * site. pin_user_pages_fast/get_user_pages_fast return the pages pinned, or -EFAULT if none;
 * every unpin and put_page of a pinned page is a release the harness records with its marks.
 */
int pin_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags, struct page **pages);
int get_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags, struct page **pages);
void unpin_user_page(struct page *page);
void unpin_user_pages(struct page **pages, unsigned long npages);
void unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages, bool make_dirty);
void put_page(struct page *page);
void set_page_dirty_lock(struct page *page);
void set_page_dirty(struct page *page);
void mark_page_accessed(struct page *page);
u64 page_to_pfn(struct page *page);
struct page *pfn_to_page(u64 pfn);
u64 __sme_page_pa(struct page *page);
/* arch/x86/kvm/svm/sev.c's pinning helpers: the page array, then every page; ERR_PTR on failure. */
struct page **sev_pin_user_range(struct kvm *kvm, u64 uaddr, unsigned long npages);
struct page **sev_pin_memory(struct kvm *kvm, u64 uaddr, u64 len, unsigned long *npages, int write);
void sev_unpin_memory(struct kvm *kvm, struct page **pages, unsigned long npages);

/* The RMP, the PSP, KVM (harness.c). */
extern bool snp_reject_assigned_on_update;
struct kvm_sev_info *to_kvm_sev_info(struct kvm *kvm);
void snp_read_rmpentry(u64 pfn, struct rmpentry *e);
int __rmpupdate(u64 pfn, struct rmp_state *state);
void trace_snp_rmpupdate(u64 pfn, struct rmpentry *old, struct rmpentry *new, int ret, const char *by);
int sev_issue_cmd(struct kvm *kvm, int cmd, void *data, u32 *error);
bool snp_kvm_page_type_valid(u8 type);
bool snp_rmp_immutable(u64 pfn);
int snp_page_reclaim(struct kvm *kvm, u64 pfn);
void snp_leak_pages(u64 pfn, unsigned long npages);
bool snp_page_leaked(u64 pfn);
struct kvm_memory_slot *hva_to_memslot(struct kvm *kvm, u64 hva);
u64 hva_to_gfn_memslot(u64 hva, struct kvm_memory_slot *slot);
int srcu_read_lock(int *srcu);
void srcu_read_unlock(int *srcu, int idx);
int rmpupdate(u64 pfn, struct rmp_state *state, const char *by);
int rmp_reset_to_hypervisor(u64 pfn);

#ifndef SNP_FLAVOUR_UPSTREAM
/* The reviewed series' own helper, which its patch defines. */
int rmp_make_private(u64 pfn, u64 gpa, u32 asid, bool immutable);
#else
/*
 * The upstream flow (Linux >= 6.11, docs/spec-notes.md §3.3, §4): the kernel's interfaces a launch
 * update over guest_memfd calls, which the patch does not define (harness.c).
 */
/* arch/x86/include/uapi/asm/kvm.h */
#define KVM_SEV_SNP_PAGE_TYPE_NORMAL 0x1
#define KVM_SEV_SNP_PAGE_TYPE_ZERO 0x3
#define KVM_SEV_SNP_PAGE_TYPE_UNMEASURED 0x4
#define KVM_SEV_SNP_PAGE_TYPE_SECRETS 0x5
#define KVM_SEV_SNP_PAGE_TYPE_CPUID 0x6
/* include/uapi/linux/psp-sev.h */
#define SEV_RET_INVALID_PARAM 0x16
/* arch/x86/include/asm/sev.h */
#define PG_LEVEL_TO_RMP(level) X86_TO_RMP_PG_LEVEL(level)
/* include/linux/kvm_host.h: the memslot at a gfn (NULL if none), whether it has a guest_memfd, guest_memfd's populate. */
#define pfn_to_hpa(pfn) ((u64)(pfn) << PAGE_SHIFT)
typedef int (*kvm_gmem_populate_cb)(struct kvm *kvm, gfn_t gfn, kvm_pfn_t pfn, void *src, int order, void *opaque);
struct kvm_memory_slot *gfn_to_memslot(struct kvm *kvm, gfn_t gfn);
bool kvm_slot_can_be_private(const struct kvm_memory_slot *slot);
long kvm_gmem_populate(struct kvm *kvm, gfn_t gfn, void *src, long npages, kvm_gmem_populate_cb post_populate,
		       void *opaque);
/* include/linux/highmem.h: the page's contents, mapped for the kernel. */
void *kmap_local_pfn(u64 pfn);
#define kunmap_local(addr) ((void)(addr))
/* arch/x86/kvm/svm/svm.h, sev.c */
bool sev_snp_guest(struct kvm *kvm);
u32 sev_get_asid(struct kvm *kvm);
int __sev_issue_cmd(int fd, int id, void *data, int *error);
/* arch/x86/virt/svm/sev.c: the kernel's RMP helpers (traced here, as every RMP write is). */
int rmp_make_private(u64 pfn, u64 gpa, int level, u32 asid, bool immutable);
int rmp_make_shared(u64 pfn, int level);
int snp_lookup_rmpentry(u64 pfn, bool *assigned, int *level);
#endif
#endif
