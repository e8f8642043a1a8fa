// The rules on code shaped the way posted SNP series write it (the C here is written for these
// tests): a guest_memfd callback that does the RMP work, a revert loop over a stale pfn, the
// 4 KiB level spelled through a helper, sparse's __user, a gpa from a helper's out-parameter.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ConformReport, conform } from './conform.js';
import { posted } from './test/postedPatch.js';

const root = resolve(import.meta.dirname, '../../..');

const UAPI = `struct kvm_sev_snp_launch_update {
	__u64 gfn_start;
	__u64 uaddr;
	__u64 len;
	__u8 type;
	__u8 pad0;
	__u16 flags;
	__u32 pad1;
	__u64 pad2[4];
};`;

/** A launch update that hands its RMP work to a populate callback, as guest_memfd's interface asks. */
const upstreamShaped = (edit: (c: string) => string = (c) => c) =>
  edit(`static int snp_post_populate(struct kvm *kvm, gfn_t gfn, kvm_pfn_t pfn, void __user *src, int npages, void *opaque)
{
	struct snp_populate_args *args = opaque;
	int n_private = 0, ret = 0, i;

	for (i = 0; i < npages; i++) {
		ret = rmp_make_private(pfn + i, gfn_to_gpa(gfn + i), PG_LEVEL_TO_RMP(PG_LEVEL_4K), args->asid, false);
		if (ret)
			goto err;
		n_private++;
		args->data.address = __sme_set(pfn_to_hpa(pfn + i));
		ret = sev_issue_cmd(kvm, SEV_CMD_SNP_LAUNCH_UPDATE, &args->data, &args->error);
		if (ret)
			goto err;
	}
	return 0;
err:
	for (i = 0; i < n_private; i++)
		rmp_make_shared(pfn + i, PG_LEVEL_4K);
	return ret;
}

static int snp_launch_update(struct kvm *kvm, struct kvm_sev_cmd *argp)
{
	struct kvm_sev_snp_launch_update params;
	struct snp_populate_args args = {};
	void __user *src;
	long count;

	if (copy_from_user(&params, (void __user *)(uintptr_t)argp->data, sizeof(params)))
		return -EFAULT;
	src = u64_to_user_ptr(params.uaddr);
	count = kvm_gmem_populate(kvm, params.gfn_start, src, params.len >> PAGE_SHIFT, snp_post_populate, &args);
	return count < 0 ? count : 0;
}`);

const check = (kvm: string): Promise<ConformReport> =>
  conform(root, posted({ 'include/uapi/linux/kvm.h': UAPI, 'arch/x86/kvm/svm/sev.c': kvm }));
const rules = (report: ConformReport) => report.findings.map((f) => f.rule);

describe('snp-conform on the shapes posted series take', () => {
  it('follows the launch update into a callback it hands on, where the RMP work is', async () => {
    const clean = await check(upstreamShaped());
    const revertAll = await check(upstreamShaped((c) => c.replace('i < n_private;', 'i < npages;')));

    expect(rules(clean)).not.toContain('revert-only-touched');
    const finding = revertAll.findings.find((f) => f.rule === 'revert-only-touched');
    expect(finding?.message).toMatch(/a loop in snp_post_populate\(\) resets RMP entries over "npages"/);
  });

  it("says a memslot lookup runs under kvm->slots_lock, as upstream's does, and one without a lock has none", async () => {
    const locked = await check(
      upstreamShaped((c) =>
        c.replace(
          '\tsrc = u64_to_user_ptr(params.uaddr);\n',
          '\tsrc = u64_to_user_ptr(params.uaddr);\n\tmutex_lock(&kvm->slots_lock);\n\tif (!kvm_slot_can_be_private(gfn_to_memslot(kvm, params.gfn_start))) {\n\t\tmutex_unlock(&kvm->slots_lock);\n\t\treturn -EINVAL;\n\t}\n',
        ),
      ),
    );
    const unlocked = await check(
      upstreamShaped((c) =>
        c.replace(
          '\tsrc = u64_to_user_ptr(params.uaddr);\n',
          '\tsrc = u64_to_user_ptr(params.uaddr);\n\tif (!gfn_to_memslot(kvm, params.gfn_start))\n\t\treturn -EINVAL;\n',
        ),
      ),
    );

    const message = (r: ConformReport) =>
      r.findings.find((f) => f.quote?.includes('gfn_to_memslot'))?.message;
    expect(message(locked)).toMatch(
      /gfn_to_memslot\(\).* in C snp_launch_update\(\), under kvm->slots_lock: no memslot can change while it looks/,
    );
    expect(message(unlocked)).toMatch(/, with no memslot lock held$/);
  });

  it('infers the upstream flow from a launch update that hands its pages to guest_memfd', async () => {
    const report = await check(upstreamShaped());

    expect(report.flavour).toBe('upstream');
    expect(report.flavourFrom).toMatch(
      /reviewed and upstream uAPI .*hands its pages to guest_memfd \(kvm_gmem_populate\(\)\)$/,
    );
  });

  it('finds a revert loop that gives back the same stale page on every pass', async () => {
    const report = await check(
      upstreamShaped((c) => c.replace('rmp_make_shared(pfn + i,', 'rmp_make_shared(pfn,')),
    );

    const finding = report.findings.find((f) => f.rule === 'revert-only-touched');
    expect(finding?.message).toMatch(
      /same page on every pass: no argument of rmp_make_shared\(\) changes with "i"/,
    );
    expect(finding?.quote).toBe('+\t\trmp_make_shared(pfn, PG_LEVEL_4K);');
  });

  it('takes the 4 KiB level spelled through a helper as 4 KiB, and a level variable as the indirection it is', async () => {
    const spelled = await check(upstreamShaped());
    const variable = await check(
      upstreamShaped((c) =>
        c
          .replace('int n_private = 0, ret = 0, i;', 'int n_private = 0, ret = 0, i, level = PG_LEVEL_4K;')
          .replace('PG_LEVEL_TO_RMP(PG_LEVEL_4K)', 'PG_LEVEL_TO_RMP(level)'),
      ),
    );

    expect(rules(spelled)).not.toContain('four-kib-only');
    expect(variable.findings.find((f) => f.rule === 'four-kib-only')?.message).toMatch(/PG_LEVEL_TO_RMP\(\)/);
  });

  it("reads sparse's __user casts as casts: no function is left half-analysed", async () => {
    const report = await check(upstreamShaped());

    expect(report.notes.filter((n) => n.includes('does not parse'))).toEqual([]);
  });

  it('traces a gpa that a helper writes through a pointer back to the memslot lookup in that helper', async () => {
    const report = await check(`static bool hva_to_gpa(struct kvm *kvm, unsigned long hva, u64 *gpa)
{
	struct kvm_memory_slot *slot = hva_to_memslot(kvm, hva);

	if (!slot)
		return false;
	*gpa = gfn_to_gpa(hva_to_gfn_memslot(hva, slot));
	return true;
}

static int snp_launch_update(struct kvm *kvm, struct kvm_sev_cmd *argp)
{
	struct kvm_sev_snp_launch_update params;
	struct page **pages;
	unsigned long npages, i;
	u64 gpa;
	int ret = 0;

	if (copy_from_user(&params, u64_to_user_ptr(argp->data), sizeof(params)))
		return -EFAULT;
	pages = sev_pin_memory(kvm, params.uaddr, params.len, &npages, 1);
	if (IS_ERR(pages))
		return PTR_ERR(pages);
	for (i = 0; i < npages && !ret; i++) {
		if (!hva_to_gpa(kvm, params.uaddr + (i << PAGE_SHIFT), &gpa))
			ret = -EINVAL;
		else
			ret = rmp_make_private(page_to_pfn(pages[i]), gpa, PG_LEVEL_4K, 1, true);
	}
	sev_unpin_memory(kvm, pages, npages);
	return ret;
}`);

    const finding = report.findings.find((f) => f.rule === 'uapi-hva-and-gpa');
    expect(finding?.message).toMatch(
      /has no guest address: .*it comes from a memslot lookup: hva_to_gpa\(\)$/,
    );
  });

  it('states once that a uAPI struct of another size is another uAPI, without a finding per field', async () => {
    const report = await conform(
      root,
      posted({
        'include/uapi/linux/kvm.h': UAPI.replace('\t__u64 pad2[4];\n', ''),
        'arch/x86/kvm/svm/sev.c': upstreamShaped(),
      }),
      undefined,
      { flavour: 'reviewed' },
    );

    const layout = report.findings.filter((f) => f.rule === 'uapi-codec-layout');
    expect(layout.map((f) => f.message)).toEqual([
      'C struct is 32 bytes (fields at 0, 8, 16, 24, 25, 26, 28), the reviewed codec 64 bytes (at 0, 8, 16, 24, 26): another uAPI, not compared field by field',
    ]);
  });

  it('notes, without a finding, that C the shims cannot build was not run against the model', async () => {
    const report = await conform(
      root,
      posted({ 'include/uapi/linux/kvm.h': UAPI, 'arch/x86/kvm/svm/sev.c': upstreamShaped() }),
      undefined,
      { dynamic: true, flavour: 'reviewed' },
    );

    expect(report.findings.filter((f) => f.rule.startsWith('harness-'))).toEqual([]);
    expect(report.notes).toContainEqual(
      expect.stringMatching(
        /^not run against the model: \w+ is used but neither the patch nor the shim declares it/,
      ),
    );
  });

  it("keeps what the model alone does out of a posted series' findings, and says so", async () => {
    const report = await conform(root, posted({ 'arch/x86/kvm/svm/sev.c': upstreamShaped() }), undefined, {
      flavour: 'v4',
    });

    expect(report.findings.every((f) => f.c !== undefined)).toBe(true);
    expect(report.notes).toContainEqual(
      expect.stringMatching(/^the model's v4 flow breaks .*none in this input/),
    );
  });
});

describe("snp-conform on the kernel's iteration and lock macros", () => {
  /**
   * The launch update's callback keeping each page it makes private in a collection (`decl`, filled
   * by `add`), and giving back what `revert` says on failure.
   */
  const collected = (decl: string, add: string, revert: string) =>
    upstreamShaped((c) =>
      c
        .replace('\tint n_private = 0, ret = 0, i;\n', `${decl}\tint n_private = 0, ret = 0, i;\n`)
        .replace('\t\tn_private++;\n', `\t\tn_private++;\n${add}`)
        .replace('\tfor (i = 0; i < n_private; i++)\n\t\trmp_make_shared(pfn + i, PG_LEVEL_4K);\n', revert),
    );
  const listed = (page: string) =>
    collected(
      '\tstruct snp_done *d, *tmp;\n\tLIST_HEAD(done);\n',
      '\t\td = kzalloc(sizeof(*d), GFP_KERNEL);\n\t\td->pfn = pfn + i;\n\t\tlist_add_tail(&d->list, &done);\n',
      `\tlist_for_each_entry_safe(d, tmp, &done, list)\n\t\trmp_make_shared(${page}, PG_LEVEL_4K);\n`,
    );
  const stored = (pfn: string) =>
    collected(
      '\tstruct xarray done;\n\tunsigned long index;\n\tstruct page *page;\n',
      '\t\txa_store(&done, i, pfn_to_page(pfn + i), GFP_KERNEL);\n',
      `\txa_for_each(&done, index, page)\n\t\trmp_make_shared(${pfn}, PG_LEVEL_4K);\n`,
    );
  const stalePass = (iterator: string) =>
    new RegExp(
      `snp_post_populate\\(\\) counts the changed pages with "${iterator}" but gives back the same page on every pass: no argument of rmp_make_shared\\(\\) changes with "${iterator}"`,
    );

  it("takes a revert loop over the list of pages it changed as giving back each entry's page, and finds one giving back a stale page", async () => {
    const own = await check(listed('d->pfn'));
    const stale = await check(listed('pfn'));

    expect(rules(own)).not.toContain('revert-only-touched');
    const finding = stale.findings.find((f) => f.rule === 'revert-only-touched');
    expect(finding?.message).toMatch(stalePass('d'));
    expect(finding?.quote).toBe('+\t\trmp_make_shared(pfn, PG_LEVEL_4K);');
    expect(stale.notes.filter((n) => n.includes('does not parse'))).toEqual([]);
  });

  it('takes the entry xa_for_each hands a revert loop as changing on every pass, as its index does', async () => {
    const own = await check(stored('page_to_pfn(page)'));
    const stale = await check(stored('pfn'));

    expect(rules(own)).not.toContain('revert-only-touched');
    expect(stale.findings.find((f) => f.rule === 'revert-only-touched')?.message).toMatch(stalePass('index'));
  });

  it('finds in a launch update written with kvm_for_each_vcpu and scoped_guard what it finds in the same code spelled out', async () => {
    // The same lines either way: the macros, or the loop and the lock they stand for (include/linux/kvm_host.h, cleanup.h).
    const launch = (vcpus: string, locked: string, unlocked: string) =>
      upstreamShaped((c) =>
        c
          .replace('i < n_private;', 'i < npages;')
          .replace(
            '\tlong count;\n',
            '\tstruct kvm_vcpu *vcpu;\n\tunsigned long i;\n\tlong count = -EINVAL;\n',
          )
          .replace(
            /\tcount = kvm_gmem_populate\(.*\n/,
            (populate) =>
              `${locked}\n\t\tif (kvm_slot_can_be_private(gfn_to_memslot(kvm, params.gfn_start)))\n\t${populate}${unlocked}\n${vcpus}\n\t\tsvm_enable_lbrv(vcpu);\n\t}\n`,
          ),
      );
    const macros = await check(
      launch('\tkvm_for_each_vcpu(i, vcpu, kvm) {', '\tscoped_guard(mutex, &kvm->slots_lock) {', '\t}'),
    );
    const spelled = await check(
      launch(
        '\tfor (i = 0; (vcpu = kvm_get_vcpu(kvm, i)) != NULL; i++) {',
        '\tmutex_lock(&kvm->slots_lock); {',
        '\t} mutex_unlock(&kvm->slots_lock);',
      ),
    );
    const seen = (r: ConformReport) =>
      r.findings.map((f) => ({ rule: f.rule, message: f.message, line: f.c?.line }));

    expect(seen(macros)).toEqual(seen(spelled));
    expect(rules(macros)).toContain('revert-only-touched');
    expect(macros.findings.map((f) => f.message)).toContainEqual(
      expect.stringMatching(/gfn_to_memslot\(\).* under kvm->slots_lock/),
    );
    expect(macros.notes.filter((n) => n.includes('does not parse'))).toEqual([]);
  });
});
