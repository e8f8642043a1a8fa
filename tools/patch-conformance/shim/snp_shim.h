/*
 * User-space stand-ins for the kernel interfaces the annotated patches use, so their C compiles and
 * runs on the host: a small RMP, pinned pages with dirty/accessed marks, a scripted PSP with fault
 * injection, and a recorder that prints one canonical trace line per event (see harness.c).
 * Written for snp-conform; not kernel code.
 */
#ifndef SNP_SHIM_H
#define SNP_SHIM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint8_t u8, __u8;
typedef uint16_t u16, __u16;
typedef uint32_t u32, __u32;
typedef uint64_t u64, __u64;

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_ALIGNED(x) (((x) & (PAGE_SIZE - 1)) == 0)
#define EINVAL 22
#define EFAULT 14
#define EBUSY 16
#define EIO 5
#define ENOMEM 12
#define GFP_KERNEL_ACCOUNT 0
#define RMP_PG_SIZE_4K 0
#define PG_LEVEL_4K 1
#define X86_TO_RMP_PG_LEVEL(level) ((level) == PG_LEVEL_4K ? RMP_PG_SIZE_4K : 1)
#define SEV_CMD_SNP_LAUNCH_UPDATE 0x0A1
#define MAX_ERRNO 4095
#define IS_ERR(p) ((unsigned long)(p) >= (unsigned long)-MAX_ERRNO)
#define PTR_ERR(p) ((long)(p))
#define ERR_PTR(e) ((void *)(long)(e))
#define u64_to_user_ptr(x) ((void *)(uintptr_t)(x))
#define __sme_set(x) ((x) | (1ULL << 51))
#define __psp_pa(x) ((u64)(uintptr_t)(x))
#define gfn_to_gpa(gfn) ((u64)(gfn) << PAGE_SHIFT)
#define page_level_size(level) (PAGE_SIZE << (9 * ((level) - 1)))
#define page_level_mask(level) (~(page_level_size(level) - 1))

struct page { u64 pfn; int pins; bool dirty, accessed; };
struct rmp_state { u64 gpa; u8 assigned, pagesize, immutable, rsvd; u32 asid; };
struct rmpentry { bool assigned, immutable, validated; u8 pagesize; u32 asid; u64 gpa; };
struct kvm_sev_cmd { u32 id; u32 pad0; u64 data; u32 error; u32 sev_fd; };
struct kvm_sev_info { u32 asid; void *snp_context; bool snp_finished; };
struct kvm { struct kvm_sev_info sev; int srcu; };
struct kvm_memory_slot { u64 base_gfn, userspace_addr, npages; };
struct sev_data_snp_launch_update {
	u64 gctx_paddr;
	u32 page_size : 1, page_type : 3, imi_page : 1, rsvd : 27;
	u32 rsvd2;
	u64 address;
	u32 rsvd3 : 8, vmpl1_perms : 8, vmpl2_perms : 8, vmpl3_perms : 8;
	u32 rsvd4;
};

/* Provided by harness.c. */
extern bool snp_reject_assigned_on_update;
struct kvm_sev_info *to_kvm_sev_info(struct kvm *kvm);
int copy_from_user(void *to, const void *from, unsigned long n);
void *kvcalloc(size_t n, size_t size, int flags);
void kvfree(const void *p);
struct page **sev_pin_user_range(struct kvm *kvm, u64 uaddr, unsigned long npages);
struct page **sev_pin_memory(struct kvm *kvm, u64 uaddr, u64 len, unsigned long *npages, int write);
void sev_unpin_memory(struct kvm *kvm, struct page **pages, unsigned long npages);
void unpin_user_page(struct page *page);
void set_page_dirty_lock(struct page *page);
void mark_page_accessed(struct page *page);
u64 page_to_pfn(struct page *page);
u64 __sme_page_pa(struct page *page);
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
int rmp_make_private(u64 pfn, u64 gpa, u32 asid, bool immutable);
int rmp_reset_to_hypervisor(u64 pfn);
#endif
