/*
 * The C side of snp-conform's dynamic rule: the patch's C (included below as PATCH_C) runs on this
 * user-space host, driven by a scenario on stdin, and every RMP change, firmware refusal, leak and
 * page release is printed as one canonical line, for snp-conform to compare with the TypeScript
 * model's run of the same scenario. Written for snp-conform; not kernel code.
 *
 * Scenario lines: asid A | reject 0|1 | map HVA PFN COUNT | slot ID GPA HVA SIZE |
 * rmp PFN ASSIGNED ASID GPA IMMUTABLE VALIDATED | inject psp|rmpupdate NTH CODE | finish |
 * call GFN UADDR LEN TYPE (run KVM_SEV_SNP_LAUNCH_UPDATE; v4 ignores GFN).
 */
#include "snp_shim.h"
#include "sandbox.h"

#define MAX_PAGES 4096
#define MAX_MAPS 64

bool snp_reject_assigned_on_update;
static struct rmpentry rmp[MAX_PAGES];
static struct page pages[MAX_PAGES];
static bool leaked[MAX_PAGES];
static struct { u64 hva, pfn, count; } maps[MAX_MAPS];
static int nmaps;
static struct kvm_memory_slot slots[MAX_MAPS];
static int nslots;
static struct kvm the_kvm;
static unsigned long psp_calls, rmp_calls, psp_fail_at, rmp_fail_at;
static int psp_fail_code, rmp_fail_code;

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
 * Memory for the patch's allocations: a bump arena, since the sandbox allows no brk or mmap. Freed
 * memory is not reused; a scenario allocates little.
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

struct kvm_sev_info *to_kvm_sev_info(struct kvm *kvm) { return &kvm->sev; }
int copy_from_user(void *to, const void *from, unsigned long n) { memcpy(to, from, n); return 0; }
void *kvcalloc(size_t n, size_t size, int flags) { (void)flags; return arena_alloc(n, size); }
void kvfree(const void *p) { (void)p; }

static struct page *translate(u64 hva)
{
	for (int i = 0; i < nmaps; i++)
		if (hva >= maps[i].hva && hva < maps[i].hva + maps[i].count * PAGE_SIZE)
			return &pages[maps[i].pfn + (hva - maps[i].hva) / PAGE_SIZE];
	return NULL;
}

struct page **sev_pin_user_range(struct kvm *kvm, u64 uaddr, unsigned long npages)
{
	struct page **pinned = arena_alloc(npages, sizeof(*pinned));
	(void)kvm;
	if (!pinned)
		return ERR_PTR(-ENOMEM);
	for (unsigned long i = 0; i < npages; i++) {
		pinned[i] = translate(uaddr + i * PAGE_SIZE);
		if (!pinned[i]) {
			while (i--)
				pinned[i]->pins--;
			return ERR_PTR(-EFAULT);
		}
		pinned[i]->pins++;
	}
	return pinned;
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
	for (unsigned long i = 0; i < npages; i++)
		release(pinned[i]);
}

void unpin_user_page(struct page *page) { release(page); }
void set_page_dirty_lock(struct page *page) { page->dirty = true; }
void mark_page_accessed(struct page *page) { page->accessed = true; }
u64 page_to_pfn(struct page *page) { return page->pfn; }
u64 __sme_page_pa(struct page *page) { return __sme_set(page->pfn << PAGE_SHIFT); }
void snp_read_rmpentry(u64 pfn, struct rmpentry *e) { *e = rmp[pfn]; }
void trace_snp_rmpupdate(u64 pfn, struct rmpentry *old, struct rmpentry *new, int ret, const char *by)
{
	(void)pfn, (void)old, (void)new, (void)ret, (void)by; /* the shim records changes in __rmpupdate */
}

/* The RMPUPDATE instruction: fails on an immutable entry (FAIL_PERMISSION 2), or as injected. */
int __rmpupdate(u64 pfn, struct rmp_state *state)
{
	struct rmpentry old = rmp[pfn];

	if (++rmp_calls == rmp_fail_at)
		return rmp_fail_code;
	if (old.immutable)
		return 2;
	rmp[pfn] = (struct rmpentry){ .assigned = state->assigned, .immutable = state->immutable,
				      .asid = state->asid, .gpa = state->gpa };
	record_change(pfn, &old, &rmp[pfn]);
	return 0;
}

/* The PSP's SNP_LAUNCH_UPDATE: a pre-guest page of this guest becomes validated and mutable. */
int sev_issue_cmd(struct kvm *kvm, int cmd, void *data, u32 *error)
{
	struct sev_data_snp_launch_update *update = data;
	u64 pfn = (update->address & ~(1ULL << 51)) >> PAGE_SHIFT;
	struct rmpentry old = rmp[pfn];

	if (cmd != SEV_CMD_SNP_LAUNCH_UPDATE)
		return -EINVAL;
	if (++psp_calls == psp_fail_at) {
		*error = psp_fail_code;
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
bool snp_rmp_immutable(u64 pfn) { return rmp[pfn].immutable; }

int snp_page_reclaim(struct kvm *kvm, u64 pfn)
{
	struct rmpentry old = rmp[pfn];
	(void)kvm;
	rmp[pfn].immutable = false;
	record_change(pfn, &old, &rmp[pfn]);
	return 0;
}

void snp_leak_pages(u64 pfn, unsigned long npages)
{
	for (unsigned long i = 0; i < npages; i++) {
		leaked[pfn + i] = true;
		printf("leak pfn=0x%llx\n", (unsigned long long)(pfn + i));
	}
}

bool snp_page_leaked(u64 pfn) { (void)pfn; return false; /* leaked pages are released too */ }

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

#ifdef SNP_FLAVOUR_V4
/* RFC v4 called the instruction wrapper directly; the shim records the change in __rmpupdate. */
int rmpupdate(u64 pfn, struct rmp_state *state, const char *by) { (void)by; return __rmpupdate(pfn, state); }
#endif

#include PATCH_C

/* The scenario on stdin, read before the sandbox closes; its lines are parsed from here. */
static char input[1 << 20];
static char *cursor = input;

/* The next whitespace-separated word of the input, or NULL at its end. */
static const char *word(void)
{
	static char out[64];
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

int main(void)
{
	static char out[1 << 16];
	static char context[4096];
	const char *op;

	snp_sandbox_enter(input, sizeof(input), 1);
	setvbuf(stdout, out, _IOFBF, sizeof(out));
	setvbuf(stderr, NULL, _IONBF, 0);
	the_kvm.sev.snp_context = context;
	for (u64 pfn = 0; pfn < MAX_PAGES; pfn++)
		pages[pfn].pfn = pfn;
	while ((op = word())) {
		unsigned long long a, b, c, d, e, f;
		bool psp;

		if (!strcmp(op, "asid") && number(10, &a)) {
			the_kvm.sev.asid = a;
		} else if (!strcmp(op, "finish")) {
			the_kvm.sev.snp_finished = true;
		} else if (!strcmp(op, "reject") && number(10, &a)) {
			snp_reject_assigned_on_update = a;
		} else if (!strcmp(op, "map") && number(16, &a) && number(16, &b) && number(10, &c) && nmaps < MAX_MAPS &&
			   b + c <= MAX_PAGES) {
			maps[nmaps++] = (typeof(maps[0])){ a, b, c };
		} else if (!strcmp(op, "slot") && number(10, &a) && number(16, &b) && number(16, &c) && number(10, &d) &&
			   a < MAX_MAPS) {
			slots[a] = (struct kvm_memory_slot){ b >> PAGE_SHIFT, c, d / PAGE_SIZE }; /* size 0 deletes */
			if ((int)a >= nslots)
				nslots = a + 1;
		} else if (!strcmp(op, "rmp") && number(16, &a) && number(10, &b) && number(10, &c) && number(16, &d) &&
			   number(10, &e) && number(10, &f) && a < MAX_PAGES) {
			struct rmpentry old = rmp[a];
			rmp[a] = (struct rmpentry){ .assigned = b, .asid = c, .gpa = d, .immutable = e, .validated = f };
			record_change(a, &old, &rmp[a]);
		} else if (!strcmp(op, "inject") && (op = word()) && (psp = !strcmp(op, "psp"), number(10, &a)) &&
			   number(10, &b)) {
			if (psp)
				psp_fail_at = psp_calls + a, psp_fail_code = b;
			else
				rmp_fail_at = rmp_calls + a, rmp_fail_code = b;
		} else if (!strcmp(op, "call") && number(16, &a) && number(16, &b) && number(10, &c) && number(10, &d)) {
			struct kvm_sev_snp_launch_update params = { 0 };
			struct kvm_sev_cmd argp = { .data = (u64)(uintptr_t)&params };
			int ret;
#ifdef SNP_FLAVOUR_V4
			(void)a;
			params.uaddr = b, params.len = c, params.page_type = d;
#else
			params.gfn_start = a, params.uaddr = b, params.len = c, params.type = d;
#endif
			ret = snp_launch_update(&the_kvm, &argp);
			printf("result ret=%d\n", ret);
		} else {
			fprintf(stderr, "harness: bad scenario line near byte %ld\n", (long)(cursor - input));
			finish(2);
		}
	}
	finish(0);
}
