/*
 * The C side of snp-conform's dynamic rule: the patch's C (included at the very end as PATCH_C)
 * runs on this user-space host, driven by runs on stdin, and every RMP change, firmware refusal,
 * leak and page release is printed as one canonical line, for snp-conform to compare with the
 * TypeScript model's run of the same scenario. Written for snp-conform; not kernel code.
 *
 * Input lines: asid A | reject 0|1 | map HVA PFN COUNT | slot ID GPA HVA SIZE |
 * rmp PFN ASSIGNED ASID GPA IMMUTABLE VALIDATED | inject SITE NTH CODE | finish |
 * call HEX (KVM_SEV_SNP_LAUNCH_UPDATE, the bytes of its uAPI struct in hex) | reset (the next run).
 * SITE: psp | rmpupdate | pin | alloc | copy_from_user | copy_to_user (harness fault sites).
 * After each call: `untraced` (an RMP write no trace_snp_rmpupdate event reported), `pinned` (the
 * pin ledger: pages still pinned), `kept` (after a failed call, a page it made assigned and neither
 * gave back nor leaked), then `result`. After each run: `unfired` for each injection no call
 * reached, `calls` (the calls made at each fault site), then `end`.
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

unsigned long copy_from_user(void *to, const void *from, unsigned long n)
{
	if (fault(SITE_COPY_FROM_USER) || !in_user(from, n))
		return n;
	memcpy(to, from, n);
	return 0;
}

unsigned long copy_to_user(void *to, const void *from, unsigned long n)
{
	if (fault(SITE_COPY_TO_USER) || !in_user(to, n))
		return n;
	memcpy(to, from, n);
	return 0;
}

static struct page *translate(u64 hva)
{
	for (int i = 0; i < nmaps; i++)
		if (hva >= maps[i].hva && hva < maps[i].hva + maps[i].count * PAGE_SIZE)
			return &pages[maps[i].pfn + (hva - maps[i].hva) / PAGE_SIZE];
	return NULL;
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

int snp_page_reclaim(struct kvm *kvm, u64 pfn)
{
	struct rmpentry old = rmp[pfn % MAX_PAGES];

	(void)kvm;
	pfn %= MAX_PAGES;
	rmp[pfn].immutable = false;
	record_change(pfn, &old, &rmp[pfn]);
	return 0;
}

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

/* `call HEX`: the uAPI struct's bytes into user memory; false if they are not hex or too many. */
static bool user_bytes(const char *hex)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > USER_BYTES)
		return false;
	memset(user, 0, sizeof(user));
	for (size_t i = 0; i < n; i += 2) {
		char byte[3] = { hex[i], hex[i + 1], 0 }, *end;

		user[i / 2] = strtoul(byte, &end, 16);
		if (*end)
			return false;
	}
	return true;
}

/*
 * After a call: the RMP writes no tracepoint event reported, the pages left pinned, the entries a
 * failed call changed and left assigned without leaking them (`before`: the RMP before the call),
 * the result.
 */
static void call_ends(int ret, const struct rmpentry *before)
{
	for (int i = 0; i < nwrites; i++)
		if (!writes[i].traced)
			printf("untraced pfn=0x%llx\n", (unsigned long long)writes[i].pfn);
	nwrites = 0;
	for (int pfn = 0; pfn < MAX_PAGES; pfn++) {
		if (pages[pfn].pins)
			printf("pinned pfn=0x%x pins=%d\n", pfn, pages[pfn].pins);
		if (ret && rmp[pfn].assigned && !pages[pfn].leaked && memcmp(&rmp[pfn], &before[pfn], sizeof(rmp[pfn])))
			printf("kept pfn=0x%x\n", pfn);
	}
	printf("result ret=%d\n", ret);
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
			call_ends(SNP_LAUNCH_UPDATE(&the_kvm, &argp), before);
		} else {
			fprintf(stderr, "harness: bad input line near byte %ld\n", (long)(cursor - input));
			finish(2);
		}
	}
	run_ends();
	finish(0);
}

#include PATCH_C
