/*
 * The C side of snp-conform's dynamic rule: the patch's C (included at the very end as PATCH_C)
 * runs on this user-space host, driven by runs on stdin, and every RMP change, firmware refusal,
 * leak and page release is printed as one canonical line, for snp-conform to compare with the
 * TypeScript model's run of the same scenario. Written for snp-conform; not kernel code.
 *
 * Input lines: asid A | reject 0|1 | map HVA PFN COUNT | slot ID GPA HVA SIZE |
 * rmp PFN ASSIGNED ASID GPA IMMUTABLE VALIDATED | inject SITE NTH CODE | finish |
 * call HEX (KVM_SEV_SNP_LAUNCH_UPDATE, the bytes of its uAPI struct in hex) | reset (the next run);
 * upstream only: gmem ID PFN PAGES (a guest_memfd) | gslot ID GPA HVA SIZE GMEM OFFSET (a memslot
 * bound to guest_memfd GMEM at byte OFFSET) | attr GFN COUNT PRIVATE (KVM_SET_MEMORY_ATTRIBUTES).
 * SITE: psp | rmpupdate | pin | alloc | copy_from_user | copy_to_user (harness fault sites).
 * During a call: `uwrite` (copy_to_user into the VMM's memory); upstream: `unlocked` (the memslot
 * lookup or populate ran without kvm->slots_lock). After each call: `untraced` (an RMP write no
 * trace_snp_rmpupdate event reported), `pinned` (the pin ledger: pages still pinned), `kept` (after
 * a failed call, a page it made assigned and neither gave back nor leaked; upstream: `converted`, a
 * VMM page the call made assigned, and `locked`, kvm->slots_lock still held), upstream: `uapi` (the
 * struct's bytes as userspace reads them back), then `result` (upstream: with kvm_sev_cmd.error).
 * After each run: `unfired` for each injection no call reached, `calls` (the calls made at each
 * fault site), then `end`.
 */
#include "snp_shim.h"
#include "sandbox.h"

#define MAX_PAGES 4096
#define MAX_MAPS 64
#define MAX_INJECTIONS 8
#define MAX_WRITES 8192
/* The user memory copy_{from,to}_user reach: the command struct a `call` line gives. */
#define USER_BYTES 4096

enum site { SITE_PSP, SITE_RMPUPDATE, SITE_PIN, SITE_ALLOC, SITE_COPY_FROM_USER, SITE_COPY_TO_USER, SITES };
static const char *const site_names[SITES] = { "psp", "rmpupdate", "pin", "alloc", "copy_from_user", "copy_to_user" };

bool snp_reject_assigned_on_update;
static struct rmpentry rmp[MAX_PAGES];
static struct page pages[MAX_PAGES];
static struct { u64 hva, pfn, count; } maps[MAX_MAPS];
static int nmaps;
static struct kvm_memory_slot slots[MAX_MAPS];
static int nslots;
static struct kvm the_kvm;
static unsigned char user[USER_BYTES] __attribute__((aligned(16)));
static unsigned long calls[SITES];
static struct { enum site site; unsigned long call; int code; bool fired; } injections[MAX_INJECTIONS];
static int ninjections;
/* The RMP writes of the current call, each matched (traced) when trace_snp_rmpupdate reports it. */
static struct { u64 pfn; struct rmpentry old, new; bool traced; } writes[MAX_WRITES];
static int nwrites;
/* The contents of the host's pages: the VMM's through the user copies, guest_memfd's through kmap_local_pfn. */
static unsigned char memory[MAX_PAGES][PAGE_SIZE] __attribute__((aligned(16)));

/* Counts a call at `site`: the code an injection makes it fail with, or 0 to let it run. */
static int fault(enum site site)
{
	unsigned long call = ++calls[site];

	for (int i = 0; i < ninjections; i++)
		if (!injections[i].fired && injections[i].site == site && injections[i].call == call) {
			injections[i].fired = true;
			return injections[i].code ? injections[i].code : 1;
		}
	return 0;
}

static void print_entry(const struct rmpentry *e)
{
	printf("A=%d ASID=%u GPA=0x%llx IMM=%d V=%d", e->assigned, e->asid, (unsigned long long)e->gpa, e->immutable,
	       e->validated);
}

static void record_change(u64 pfn, const struct rmpentry *old, const struct rmpentry *new)
{
	if (memcmp(old, new, sizeof(*old)) == 0)
		return;
	printf("rmp pfn=0x%llx old=", (unsigned long long)pfn);
	print_entry(old);
	printf(" new=");
	print_entry(new);
	printf("\n");
}

/*
 * Memory for the patch's allocations: a bump arena, since the sandbox allows no brk or mmap.
 * Freed memory is not reused; a run allocates little, and `reset` empties the arena.
 */
static unsigned char arena[16 << 20] __attribute__((aligned(16)));
static size_t arena_used;

static void *arena_alloc(size_t n, size_t size)
{
	size_t bytes = n * size, start = (arena_used + 15) & ~(size_t)15;

	if ((size && bytes / size != n) || bytes > sizeof(arena) - start)
		return NULL;
	arena_used = start + bytes;
	memset(arena + start, 0, bytes);
	return arena + start;
}

void *snp_alloc(size_t n, size_t size) { return fault(SITE_ALLOC) ? NULL : arena_alloc(n, size); }

struct kvm_sev_info *to_kvm_sev_info(struct kvm *kvm) { return &kvm->sev; }

static bool in_user(const void *p, unsigned long n)
{
	uintptr_t a = (uintptr_t)p, base = (uintptr_t)user;

	return a >= base && n <= USER_BYTES && a - base <= USER_BYTES - n;
}

static struct page *translate(u64 hva)
{
	for (int i = 0; i < nmaps; i++)
		if (hva >= maps[i].hva && hva < maps[i].hva + maps[i].count * PAGE_SIZE)
			return &pages[maps[i].pfn + (hva - maps[i].hva) / PAGE_SIZE];
	return NULL;
}

/* The VMM's page behind [p, p + n) when the range lies in one mapped page (a launch copies a page at a time), else NULL. */
static struct page *vmm_page(const void *p, unsigned long n)
{
	u64 hva = (uintptr_t)p;

	return n <= PAGE_SIZE - hva % PAGE_SIZE ? translate(hva) : NULL;
}

/* User memory: the command struct a `call` line gave, or the VMM's mapped pages; unmapped: EFAULT. */
unsigned long copy_from_user(void *to, const void *from, unsigned long n)
{
	struct page *page;

	if (fault(SITE_COPY_FROM_USER))
		return n;
	if (in_user(from, n))
		memcpy(to, from, n);
	else if ((page = vmm_page(from, n)))
		memcpy(to, memory[page->pfn] + (uintptr_t)from % PAGE_SIZE, n);
	else
		return n;
	return 0;
}

/* A write to the VMM's page faults when the page is assigned (the host's write check, APM Vol 2 Table 15-39). */
unsigned long copy_to_user(void *to, const void *from, unsigned long n)
{
	struct page *page;

	if (fault(SITE_COPY_TO_USER))
		return n;
	if (in_user(to, n)) {
		memcpy(to, from, n);
		return 0;
	}
	page = vmm_page(to, n);
	if (!page || rmp[page->pfn].assigned)
		return n;
	memcpy(memory[page->pfn] + (uintptr_t)to % PAGE_SIZE, from, n);
	printf("uwrite hva=0x%llx len=%lu\n", (unsigned long long)(uintptr_t)to, n);
	return 0;
}

/* Pins pages from uaddr until one is unmapped or its pin fails (a `pin` fault): how many it pinned. */
static unsigned long pin_pages(u64 uaddr, unsigned long npages, struct page **out)
{
	for (unsigned long i = 0; i < npages; i++) {
		struct page *page = translate(uaddr + i * PAGE_SIZE);

		if (!page || fault(SITE_PIN))
			return i;
		page->pins++;
		out[i] = page;
	}
	return npages;
}

/* mm/gup.c: the number of pages pinned, or -EFAULT when the first one cannot be. */
int pin_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags, struct page **pages)
{
	unsigned long pinned = nr_pages > 0 ? pin_pages(start, nr_pages, pages) : 0;

	(void)gup_flags;
	return pinned || nr_pages <= 0 ? (int)pinned : -EFAULT;
}

int get_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags, struct page **pages)
{
	return pin_user_pages_fast(start, nr_pages, gup_flags, pages);
}

struct page **sev_pin_user_range(struct kvm *kvm, u64 uaddr, unsigned long npages)
{
	struct page **pinned = snp_alloc(npages, sizeof(*pinned));
	unsigned long n;

	(void)kvm;
	if (!pinned)
		return ERR_PTR(-ENOMEM);
	n = pin_pages(uaddr, npages, pinned);
	if (n == npages)
		return pinned;
	while (n--)
		pinned[n]->pins--;
	return ERR_PTR(-EFAULT);
}

struct page **sev_pin_memory(struct kvm *kvm, u64 uaddr, u64 len, unsigned long *npages, int write)
{
	(void)write;
	*npages = len >> PAGE_SHIFT;
	return sev_pin_user_range(kvm, uaddr, *npages);
}

static void release(struct page *page)
{
	page->pins--;
	printf("release pfn=0x%llx dirty=%d accessed=%d\n", (unsigned long long)page->pfn, page->dirty, page->accessed);
}

void sev_unpin_memory(struct kvm *kvm, struct page **pinned, unsigned long npages)
{
	(void)kvm;
	unpin_user_pages(pinned, npages);
}

void unpin_user_page(struct page *page) { release(page); }
void put_page(struct page *page) { release(page); }

void unpin_user_pages(struct page **pinned, unsigned long npages)
{
	for (unsigned long i = 0; i < npages; i++)
		release(pinned[i]);
}

/* mm/gup.c: marks each page dirty if asked (not accessed), then unpins it. */
void unpin_user_pages_dirty_lock(struct page **pinned, unsigned long npages, bool make_dirty)
{
	for (unsigned long i = 0; i < npages; i++) {
		if (make_dirty)
			set_page_dirty_lock(pinned[i]);
		release(pinned[i]);
	}
}

void set_page_dirty_lock(struct page *page) { page->dirty = true; }
void set_page_dirty(struct page *page) { page->dirty = true; }
void mark_page_accessed(struct page *page) { page->accessed = true; }
u64 page_to_pfn(struct page *page) { return page->pfn; }
struct page *pfn_to_page(u64 pfn) { return &pages[pfn % MAX_PAGES]; }
u64 __sme_page_pa(struct page *page) { return __sme_set(page->pfn << PAGE_SHIFT); }
void snp_read_rmpentry(u64 pfn, struct rmpentry *e) { *e = rmp[pfn % MAX_PAGES]; }

/* The tracepoint: matches the RMP write it reports (same page, same entry before and after). */
void trace_snp_rmpupdate(u64 pfn, struct rmpentry *old, struct rmpentry *new, int ret, const char *by)
{
	(void)ret, (void)by;
	for (int i = 0; i < nwrites; i++)
		if (!writes[i].traced && writes[i].pfn == pfn && !memcmp(&writes[i].old, old, sizeof(*old)) &&
		    !memcmp(&writes[i].new, new, sizeof(*new))) {
			writes[i].traced = true;
			return;
		}
}

/* The RMPUPDATE instruction: fails on an immutable entry (FAIL_PERMISSION 2), or as injected. */
int __rmpupdate(u64 pfn, struct rmp_state *state)
{
	struct rmpentry old = rmp[pfn % MAX_PAGES];
	int injected = fault(SITE_RMPUPDATE);

	pfn %= MAX_PAGES;
	if (injected)
		return injected;
	if (old.immutable)
		return 2;
	rmp[pfn] = (struct rmpentry){ .assigned = state->assigned, .immutable = state->immutable,
				      .asid = state->asid, .gpa = state->gpa };
	if (nwrites < MAX_WRITES)
		writes[nwrites++] = (typeof(writes[0])){ pfn, old, rmp[pfn], false };
	record_change(pfn, &old, &rmp[pfn]);
	return 0;
}

/* The PSP's SNP_LAUNCH_UPDATE: a pre-guest page of this guest becomes validated and mutable. */
int sev_issue_cmd(struct kvm *kvm, int cmd, void *data, u32 *error)
{
	struct sev_data_snp_launch_update *update = data;
	u64 pfn = ((update->address & ~(1ULL << 51)) >> PAGE_SHIFT) % MAX_PAGES;
	struct rmpentry old = rmp[pfn];
	int injected;

	if (cmd != SEV_CMD_SNP_LAUNCH_UPDATE)
		return -EINVAL;
	if ((injected = fault(SITE_PSP))) {
		*error = injected;
		return -EIO;
	}
	if (!old.assigned || !old.immutable || old.validated || old.asid != kvm->sev.asid) {
		*error = old.asid != kvm->sev.asid && old.assigned ? 0x1c : 0x1a;
		return -EIO;
	}
	rmp[pfn].immutable = false;
	rmp[pfn].validated = true;
	record_change(pfn, &old, &rmp[pfn]);
	return 0;
}

bool snp_kvm_page_type_valid(u8 type) { return type == 1 || type == 3 || type == 4 || type == 5 || type == 6; }
bool snp_rmp_immutable(u64 pfn) { return rmp[pfn % MAX_PAGES].immutable; }

/* The firmware's SNP_PAGE_RECLAIM: the page is the host's to change again (no longer immutable). */
static void psp_page_reclaim(u64 pfn)
{
	struct rmpentry old = rmp[pfn % MAX_PAGES];

	pfn %= MAX_PAGES;
	rmp[pfn].immutable = false;
	record_change(pfn, &old, &rmp[pfn]);
}

#ifndef SNP_FLAVOUR_UPSTREAM
/* The reviewed series' helper: the firmware's reclaim alone (its caller resets the entry). */
int snp_page_reclaim(struct kvm *kvm, u64 pfn)
{
	(void)kvm;
	psp_page_reclaim(pfn);
	return 0;
}
#endif

void snp_leak_pages(u64 pfn, unsigned long npages)
{
	for (unsigned long i = 0; i < npages; i++) {
		pages[(pfn + i) % MAX_PAGES].leaked = true;
		printf("leak pfn=0x%llx\n", (unsigned long long)(pfn + i));
	}
}

bool snp_page_leaked(u64 pfn) { return pages[pfn % MAX_PAGES].leaked; }

struct kvm_memory_slot *hva_to_memslot(struct kvm *kvm, u64 hva)
{
	(void)kvm;
	for (int i = 0; i < nslots; i++)
		if (hva >= slots[i].userspace_addr && hva < slots[i].userspace_addr + slots[i].npages * PAGE_SIZE)
			return &slots[i];
	return NULL;
}

u64 hva_to_gfn_memslot(u64 hva, struct kvm_memory_slot *slot)
{
	return slot->base_gfn + (hva - slot->userspace_addr) / PAGE_SIZE;
}

int srcu_read_lock(int *srcu) { return ++*srcu; }
void srcu_read_unlock(int *srcu, int idx) { (void)srcu, (void)idx; }

#ifdef SNP_FLAVOUR_UPSTREAM
/* guest_memfds (the first pfn backing each), memory attributes (last writer wins), pages populate prepared. */
static u64 gmem_pfns[MAX_MAPS];
#define MAX_ATTRS 64
static struct { u64 gfn, count; bool private; } attrs[MAX_ATTRS];
static int nattrs;
static bool prepared[MAX_PAGES];

/* arch/x86/virt/svm/sev.c: an RMPUPDATE of one page, traced as every RMP change is. */
static int rmp_update_traced(u64 pfn, struct rmp_state *state)
{
	struct rmpentry old, new;
	int ret;

	snp_read_rmpentry(pfn, &old);
	ret = __rmpupdate(pfn, state);
	snp_read_rmpentry(pfn, &new);
	trace_snp_rmpupdate(pfn, &old, &new, ret, "kvm");
	return ret ? -EFAULT : 0; /* rmpupdate(): any failure is -EFAULT (docs/spec-notes.md §1.7) */
}

int rmp_make_private(u64 pfn, u64 gpa, int level, u32 asid, bool immutable)
{
	struct rmp_state state = { .gpa = gpa, .assigned = 1, .pagesize = X86_TO_RMP_PG_LEVEL(level),
				   .immutable = immutable, .asid = asid };

	return rmp_update_traced(pfn, &state);
}

int rmp_make_shared(u64 pfn, int level)
{
	struct rmp_state state = { .pagesize = X86_TO_RMP_PG_LEVEL(level) };

	return rmp_update_traced(pfn, &state);
}

int snp_lookup_rmpentry(u64 pfn, bool *assigned, int *level)
{
	*assigned = rmp[pfn % MAX_PAGES].assigned;
	*level = PG_LEVEL_4K;
	return 0;
}

/* arch/x86/kvm/svm/sev.c: SNP_PAGE_RECLAIM, then the page made shared; a page that cannot be is leaked (-EIO). */
int snp_page_reclaim(struct kvm *kvm, u64 pfn)
{
	(void)kvm;
	psp_page_reclaim(pfn);
	if (!rmp_make_shared(pfn, PG_LEVEL_4K))
		return 0;
	snp_leak_pages(pfn, 1);
	return -EIO;
}

bool sev_snp_guest(struct kvm *kvm) { (void)kvm; return true; }
u32 sev_get_asid(struct kvm *kvm) { return kvm->sev.asid; }
void *kmap_local_pfn(u64 pfn) { return memory[pfn % MAX_PAGES]; }

/* The one VM's firmware command, whatever sev fd names it. */
int __sev_issue_cmd(int fd, int id, void *data, int *error)
{
	u32 status = 0;
	int ret = sev_issue_cmd(&the_kvm, id, data, &status);

	(void)fd;
	*error = status;
	return ret;
}

/* The memslot at gfn: looked up under kvm->slots_lock (docs/spec-notes.md §3.3), else an `unlocked` line. */
struct kvm_memory_slot *gfn_to_memslot(struct kvm *kvm, gfn_t gfn)
{
	if (!kvm->slots_lock.held)
		printf("unlocked kvm->slots_lock gfn_to_memslot\n");
	for (int i = 0; i < nslots; i++)
		if (gfn >= slots[i].base_gfn && gfn - slots[i].base_gfn < slots[i].npages)
			return &slots[i];
	return NULL;
}

bool kvm_slot_can_be_private(const struct kvm_memory_slot *slot) { return slot && slot->gmem; }

static bool gfn_private(u64 gfn)
{
	bool private = false;

	for (int i = 0; i < nattrs; i++)
		if (gfn >= attrs[i].gfn && gfn - attrs[i].gfn < attrs[i].count)
			private = attrs[i].private;
	return private;
}

/*
 * virt/kvm/guest_memfd.c's populate, as the model has it (packages/kvm-svm launchUpdateUpstream,
 * docs/spec-notes.md §3.3): the memslot at gfn must have a guest_memfd (-EINVAL) and the range is
 * clipped to its end; page by page (order-0 chunks: the model's guest_memfd hands out 4 KiB
 * folios), a page populated before is -EEXIST, a gfn not private -EINVAL, else post_populate gets
 * the page and its source (none for none) and, when it succeeds, the page counts as populated.
 * The pages done, or the error if there are none.
 */
long kvm_gmem_populate(struct kvm *kvm, gfn_t gfn, void *src, long npages, kvm_gmem_populate_cb post_populate,
		       void *opaque)
{
	struct kvm_memory_slot *slot = gfn_to_memslot(kvm, gfn);
	long done = 0;
	int ret = 0;

	if (!kvm_slot_can_be_private(slot))
		return -EINVAL;
	if (npages > (long)(slot->base_gfn + slot->npages - gfn))
		npages = slot->base_gfn + slot->npages - gfn;
	for (; done < npages; done++) {
		u64 index = gfn + done - slot->base_gfn + slot->gmem_pgoff;
		u64 pfn = (gmem_pfns[slot->gmem - 1] + index) % MAX_PAGES;

		if (prepared[pfn])
			ret = -EEXIST;
		else if (!gfn_private(gfn + done))
			ret = -EINVAL;
		else
			ret = post_populate(kvm, gfn + done, pfn, src ? (char *)src + done * PAGE_SIZE : NULL, 0, opaque);
		if (ret)
			break;
		prepared[pfn] = true;
	}
	return ret && !done ? ret : done;
}
#endif

#ifdef SNP_FLAVOUR_V4
/* RFC v4 called the kernel's rmpupdate(), which the patch does not define: this one is traced. */
int rmpupdate(u64 pfn, struct rmp_state *state, const char *by)
{
	struct rmpentry old, new;
	int ret;

	snp_read_rmpentry(pfn, &old);
	ret = __rmpupdate(pfn, state);
	snp_read_rmpentry(pfn, &new);
	trace_snp_rmpupdate(pfn, &old, &new, ret, by);
	return ret;
}
#endif

/*
 * The patch's launch update (SNP_LAUNCH_UPDATE: the name snp-conform paired, harness.ts), defined
 * by the patch included at the end of this file. Everything
 * of the harness comes before that include, so no macro the patch defines can reach the harness's
 * own code (the sandbox entry in main above all).
 */
static int SNP_LAUNCH_UPDATE(struct kvm *kvm, struct kvm_sev_cmd *argp);


/* The scenario on stdin, read before the sandbox closes; its lines are parsed from here. */
static char input[16 << 20];
static char *cursor = input;

/* The next whitespace-separated word of the input, or NULL at its end. */
static const char *word(void)
{
	static char out[2 * USER_BYTES + 1];
	size_t n = 0;

	while (*cursor == ' ' || *cursor == '\t' || *cursor == '\n' || *cursor == '\r')
		cursor++;
	while (*cursor && *cursor != ' ' && *cursor != '\t' && *cursor != '\n' && *cursor != '\r')
		if (n + 1 < sizeof(out))
			out[n++] = *cursor++;
		else
			cursor++;
	out[n] = '\0';
	return n ? out : NULL;
}

/* The next word as a number in `base`; false if it is missing or not a number. */
static bool number(int base, unsigned long long *value)
{
	const char *w = word();
	char *end;

	if (!w)
		return false;
	*value = strtoull(w, &end, base);
	return *end == '\0';
}

static void finish(int status)
{
	fflush(stdout);
	fflush(stderr);
	snp_sandbox_exit(status);
}

/* The site named `name`, or SITES if there is none. */
static enum site site_named(const char *name)
{
	enum site site = 0;

	while (site < SITES && strcmp(site_names[site], name))
		site++;
	return site;
}

/* The bytes of the uAPI struct the last `call` line gave. */
static size_t struct_bytes;

/* `call HEX`: the uAPI struct's bytes into user memory; false if they are not hex or too many. */
static bool user_bytes(const char *hex)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > USER_BYTES)
		return false;
	memset(user, 0, sizeof(user));
	struct_bytes = n / 2;
	for (size_t i = 0; i < n; i += 2) {
		char byte[3] = { hex[i], hex[i + 1], 0 }, *end;

		user[i / 2] = strtoul(byte, &end, 16);
		if (*end)
			return false;
	}
	return true;
}

/* Whether the VMM maps host page `pfn`. */
static bool vmm_maps(u64 pfn)
{
	for (int i = 0; i < nmaps; i++)
		if (pfn >= maps[i].pfn && pfn - maps[i].pfn < maps[i].count)
			return true;
	return false;
}

/*
 * After a call: the RMP writes no tracepoint event reported, the pages left pinned, the entries a
 * failed call changed and left assigned without leaking them (`before`: the RMP before the call;
 * upstream: the VMM's pages the call made assigned, whatever it returned, since its pages are only
 * a source, and kvm->slots_lock left held; then the struct as userspace reads it back), the
 * result (upstream: with the firmware status in kvm_sev_cmd.error).
 */
static void call_ends(int ret, const struct rmpentry *before, const struct kvm_sev_cmd *argp)
{
	for (int i = 0; i < nwrites; i++)
		if (!writes[i].traced)
			printf("untraced pfn=0x%llx\n", (unsigned long long)writes[i].pfn);
	nwrites = 0;
	for (int pfn = 0; pfn < MAX_PAGES; pfn++) {
		bool changed = rmp[pfn].assigned && !pages[pfn].leaked && memcmp(&rmp[pfn], &before[pfn], sizeof(rmp[pfn]));

		if (pages[pfn].pins)
			printf("pinned pfn=0x%x pins=%d\n", pfn, pages[pfn].pins);
#ifdef SNP_FLAVOUR_UPSTREAM
		if (changed && vmm_maps(pfn))
			printf("converted pfn=0x%x\n", pfn);
#else
		if (ret && changed)
			printf("kept pfn=0x%x\n", pfn);
#endif
	}
#ifdef SNP_FLAVOUR_UPSTREAM
	if (the_kvm.slots_lock.held)
		printf("locked kvm->slots_lock\n");
	the_kvm.slots_lock.held = 0;
	printf("uapi ");
	for (size_t i = 0; i < struct_bytes; i++)
		printf("%02x", user[i]);
	printf("\nresult ret=%d error=0x%x\n", ret, argp->error);
#else
	(void)argp;
	printf("result ret=%d\n", ret);
#endif
}

/* The end of a run: injections no call reached, the calls per site, then `end` (flushed, so a run that dies later is located). */
static void run_ends(void)
{
	for (int i = 0; i < ninjections; i++)
		if (!injections[i].fired)
			printf("unfired %s %lu\n", site_names[injections[i].site], injections[i].call);
	printf("calls");
	for (enum site site = 0; site < SITES; site++)
		printf(" %s=%lu", site_names[site], calls[site]);
	printf("\nend\n");
	fflush(stdout);
}

static void reset(void)
{
	static char context[4096];

	memset(rmp, 0, sizeof(rmp));
	for (u64 pfn = 0; pfn < MAX_PAGES; pfn++)
		pages[pfn] = (struct page){ .pfn = pfn };
	nmaps = nslots = ninjections = nwrites = 0;
	memset(calls, 0, sizeof(calls));
	memset(&the_kvm, 0, sizeof(the_kvm));
	the_kvm.sev.snp_context = context;
	snp_reject_assigned_on_update = false;
	arena_used = 0;
#ifdef SNP_FLAVOUR_UPSTREAM
	nattrs = 0;
	memset(gmem_pfns, 0, sizeof(gmem_pfns));
	memset(prepared, 0, sizeof(prepared));
#endif
}

int main(void)
{
	static char out[1 << 16];
	const char *op;

	snp_sandbox_enter(input, sizeof(input), 1);
	setvbuf(stdout, out, _IOFBF, sizeof(out));
	setvbuf(stderr, NULL, _IONBF, 0);
	reset();
	while ((op = word())) {
		unsigned long long a, b, c, d, e, f;
		enum site site;

		if (!strcmp(op, "asid") && number(10, &a)) {
			the_kvm.sev.asid = a;
		} else if (!strcmp(op, "finish")) {
			the_kvm.sev.snp_finished = true;
		} else if (!strcmp(op, "reject") && number(10, &a)) {
			snp_reject_assigned_on_update = a;
		} else if (!strcmp(op, "reset")) {
			run_ends();
			reset();
		} else if (!strcmp(op, "map") && number(16, &a) && number(16, &b) && number(10, &c) && nmaps < MAX_MAPS &&
			   b + c <= MAX_PAGES) {
			maps[nmaps++] = (typeof(maps[0])){ a, b, c };
		} else if (!strcmp(op, "slot") && number(10, &a) && number(16, &b) && number(16, &c) && number(10, &d) &&
			   a < MAX_MAPS) {
			slots[a] = (struct kvm_memory_slot){ b >> PAGE_SHIFT, c, d / PAGE_SIZE }; /* size 0 deletes */
			if ((int)a >= nslots)
				nslots = a + 1;
#ifdef SNP_FLAVOUR_UPSTREAM
		} else if (!strcmp(op, "gmem") && number(10, &a) && number(16, &b) && number(10, &c) && a < MAX_MAPS &&
			   b + c <= MAX_PAGES) {
			gmem_pfns[a] = b;
		} else if (!strcmp(op, "gslot") && number(10, &a) && number(16, &b) && number(16, &c) && number(10, &d) &&
			   number(10, &e) && number(16, &f) && a < MAX_MAPS && e < MAX_MAPS) {
			slots[a] = (struct kvm_memory_slot){ b >> PAGE_SHIFT, c, d / PAGE_SIZE, e + 1, f / PAGE_SIZE };
			if ((int)a >= nslots)
				nslots = a + 1;
		} else if (!strcmp(op, "attr") && number(16, &a) && number(10, &b) && number(10, &c) && nattrs < MAX_ATTRS) {
			attrs[nattrs++] = (typeof(attrs[0])){ a, b, c };
#endif
		} else if (!strcmp(op, "rmp") && number(16, &a) && number(10, &b) && number(10, &c) && number(16, &d) &&
			   number(10, &e) && number(10, &f) && a < MAX_PAGES) {
			struct rmpentry old = rmp[a];
			rmp[a] = (struct rmpentry){ .assigned = b, .asid = c, .gpa = d, .immutable = e, .validated = f };
			record_change(a, &old, &rmp[a]);
		} else if (!strcmp(op, "inject") && (op = word()) && (site = site_named(op)) < SITES && number(10, &a) &&
			   number(10, &b) && ninjections < MAX_INJECTIONS) {
			injections[ninjections++] = (typeof(injections[0])){ site, calls[site] + a, b, false };
		} else if (!strcmp(op, "call") && (op = word()) && user_bytes(op)) {
			static struct rmpentry before[MAX_PAGES];
			struct kvm_sev_cmd argp = { .data = (u64)(uintptr_t)user };

			memcpy(before, rmp, sizeof(rmp));
			call_ends(SNP_LAUNCH_UPDATE(&the_kvm, &argp), before, &argp);
		} else {
			fprintf(stderr, "harness: bad input line near byte %ld\n", (long)(cursor - input));
			finish(2);
		}
	}
	run_ends();
	finish(0);
}

#include PATCH_C
