import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conform, MODEL_PACKAGES } from '../conform.js';
import { recountHunks } from '../test/patchText.js';

// reviewed.patch rewritten the way kernel developers write such code (arch/x86/kvm/svm/sev.c, the
// SNP series): each row is one rewrite, and the static rules it must fire (none: harmless).

const repo = resolve(import.meta.dirname, '../../../..');
const reviewed = readFileSync(join(repo, 'patches/reviewed.patch'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'conform-semantics-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Edit = readonly [find: string, replace: string];

const FORWARD_LOOP =
  '+\tfor (i = 0; i < npages; i++) {\n+\t\tu64 gpa = (params.gfn_start + i) << PAGE_SHIFT;\n';
const REVERT_CALL = '+\tif (ret)\n+\t\tsnp_revert_touched(kvm, pfns, changed);\n';
const RELEASE_LOOP =
  '+\tfor (i = 0; i < npages; i++) {\n+\t\tif (snp_page_leaked(page_to_pfn(pages[i])))\n+\t\t\tcontinue;\n+\t\tset_page_dirty_lock(pages[i]);\n+\t\tmark_page_accessed(pages[i]);\n+\t\tunpin_user_page(pages[i]);\n+\t}\n';
const LAUNCH_UPDATE = '+/* @snp-ref kvm.snp_launch_update */\n';
const MAKE_PRIVATE = '+\t\tret = rmp_make_private(pfns[i], gpa, sev->asid, true);\n';
const GPA = '+\t\tu64 gpa = (params.gfn_start + i) << PAGE_SHIFT;\n';

/** Renames a uAPI field in the struct (its first declaration) and in every `params.` use. */
const renameField = (from: string, to: string): Edit[] => [
  [` ${from};`, ` ${to};`],
  ...Array.from(
    { length: reviewed.split(`params.${from}`).length - 1 },
    (): Edit => [`params.${from}`, `params.${to}`],
  ),
];

/** The gpa of each page from the memslot that maps its hva, as RFC v4 did; gfn_start stays in the struct, unused. */
const GPA_FROM_MEMSLOT: Edit = [
  GPA,
  '+\t\tunsigned long hva = params.uaddr + (i << PAGE_SHIFT);\n+\t\tstruct kvm_memory_slot *slot = hva_to_memslot(kvm, hva);\n+\t\tu64 gpa;\n+\n+\t\tif (!slot) {\n+\t\t\tret = -EINVAL;\n+\t\t\tbreak;\n+\t\t}\n+\t\tgpa = gfn_to_gpa(hva_to_gfn_memslot(hva, slot));\n',
];
const RENAMED_FIELDS = [
  ...renameField('gfn_start', 'start_gfn'),
  ...renameField('uaddr', 'hva'),
  ...renameField('len', 'size'),
  ...renameField('type', 'kind'),
];

const FIXTURES: readonly [rules: readonly string[], what: string, edits: readonly Edit[]][] = [
  [
    ['no-memslot-srcu'],
    'a sanity check that the gfn is backed, through __gfn_to_memslot(kvm_memslots())',
    [
      [
        FORWARD_LOOP,
        `${FORWARD_LOOP}+\n+\t\tif (!__gfn_to_memslot(kvm_memslots(kvm), params.gfn_start + i)) {\n+\t\t\tret = -EINVAL;\n+\t\t\tbreak;\n+\t\t}\n`,
      ],
    ],
  ],
  [
    ['no-memslot-srcu'],
    'a memslot lookup in a helper the patch defines, whose name says nothing',
    [
      [
        LAUNCH_UPDATE,
        `+static bool snp_gfn_ok(struct kvm *kvm, gfn_t gfn)\n+{\n+\treturn gfn_to_memslot(kvm, gfn) != NULL;\n+}\n+\n${LAUNCH_UPDATE}`,
      ],
      [FORWARD_LOOP, `${FORWARD_LOOP}+\t\tif (!snp_gfn_ok(kvm, params.gfn_start + i))\n+\t\t\tcontinue;\n`],
    ],
  ],
  [
    ['no-memslot-srcu'],
    'the 6.11 shape: kvm_gmem_populate() under kvm->slots_lock',
    [
      [
        FORWARD_LOOP,
        `+\tmutex_lock(&kvm->slots_lock);\n+\tret = kvm_gmem_populate(kvm, params.gfn_start, NULL, npages, NULL, NULL);\n+\tmutex_unlock(&kvm->slots_lock);\n${FORWARD_LOOP}`,
      ],
    ],
  ],
  [
    ['four-kib-only'],
    'a 2 MiB fast path taken when the range is PMD-aligned',
    [
      [
        MAKE_PRIVATE,
        `+\t\tif (IS_ALIGNED(params.uaddr, PMD_SIZE) && npages - i >= PTRS_PER_PMD)\n+\t\t\tpr_debug("2M run at %lu\\n", i);\n${MAKE_PRIVATE}`,
      ],
    ],
  ],
  [
    [],
    "rmp_make_private() with upstream's signature, given PG_LEVEL_4K",
    [
      [
        '+int rmp_make_private(u64 pfn, u64 gpa, u32 asid, bool immutable)',
        '+int rmp_make_private(u64 pfn, u64 gpa, enum pg_level level, u32 asid, bool immutable)',
      ],
      [MAKE_PRIVATE, '+\t\tret = rmp_make_private(pfns[i], gpa, PG_LEVEL_4K, sev->asid, true);\n'],
    ],
  ],
  [
    ['revert-only-touched'],
    'the revert helper handed the whole count through a local alias',
    [
      [
        REVERT_CALL,
        '+\tif (ret) {\n+\t\tunsigned long nr = npages;\n+\n+\t\tsnp_revert_touched(kvm, pfns, nr);\n+\t}\n',
      ],
    ],
  ],
  [
    [],
    'an in-place revert of the changed pages, counting up as sev_gmem_post_populate() does',
    [
      [
        REVERT_CALL,
        '+\tif (ret)\n+\t\tfor (i = 0; i < changed; i++)\n+\t\t\trmp_reset_to_hypervisor(pfns[i]);\n',
      ],
    ],
  ],
  [
    [],
    'the pages released by a helper the patch defines, called on every path',
    [
      [
        LAUNCH_UPDATE,
        '+static void snp_release_pages(struct page **pages, unsigned long n)\n+{\n+\tunsigned long k;\n+\n+\tfor (k = 0; k < n; k++) {\n+\t\tset_page_dirty_lock(pages[k]);\n+\t\tmark_page_accessed(pages[k]);\n+\t\tunpin_user_page(pages[k]);\n+\t}\n+}\n+\n' +
          LAUNCH_UPDATE,
      ],
      [RELEASE_LOOP, '+\tsnp_release_pages(pages, npages);\n'],
    ],
  ],
  [
    ['dirty-accessed-unpin'],
    'unpin_user_pages_dirty_lock(): dirty and unpinned, never marked accessed',
    [[RELEASE_LOOP, '+\tunpin_user_pages_dirty_lock(pages, npages, true);\n']],
  ],
  [
    ['dirty-accessed-unpin'],
    'a firmware failure that returns from inside the loop, with the pages still pinned',
    [
      [
        '+\t\t\tret = -EIO;\n+\t\t\tbreak;\n',
        '+\t\t\tsnp_revert_touched(kvm, pfns, changed);\n+\t\t\treturn -EIO;\n',
      ],
    ],
  ],
  [
    ['traced-rmpupdate'],
    'the dedicated reset executes the instruction through __rmpupdate(), untraced',
    [
      [
        '+\tstruct rmp_state state = { .pagesize = RMP_PG_SIZE_4K };\n+\n+\treturn rmpupdate(pfn, &state, "kvm");\n+}\n--- a/arch/x86/kvm',
        '+\tstruct rmp_state state = { .pagesize = RMP_PG_SIZE_4K };\n+\n+\treturn __rmpupdate(pfn, &state);\n+}\n--- a/arch/x86/kvm',
      ],
    ],
  ],
  [
    ['traced-rmpupdate'],
    'rmpupdate() traces the entry before twice and never reads it after the write',
    [
      [
        '+\tsnp_read_rmpentry(pfn, &new);\n+\ttrace_snp_rmpupdate(pfn, &old, &new, ret, by);\n',
        '+\ttrace_snp_rmpupdate(pfn, &old, &old, ret, by);\n',
      ],
      ['+\tstruct rmpentry old, new;\n', '+\tstruct rmpentry old;\n'],
    ],
  ],
  [
    [],
    'rmpupdate() with the instruction in a helper of its own, traced around it',
    [
      [
        '+/* @snp-ref virt.rmpupdate */\n',
        '+static int rmpupdate_insn(u64 pfn, struct rmp_state *state)\n+{\n+\tint rc;\n+\n+\tasm volatile(".byte 0xF2, 0x0F, 0x01, 0xFE" : "=a"(rc) : "a"(pfn << PAGE_SHIFT), "c"(state) : "memory", "cc");\n+\treturn rc;\n+}\n+\n+/* @snp-ref virt.rmpupdate */\n',
      ],
      ['+\tret = __rmpupdate(pfn, state);\n', '+\tret = rmpupdate_insn(pfn, state);\n'],
    ],
  ],
  [
    ['traced-rmpupdate'],
    'rmpupdate() hands the write to a helper nobody describes: its trace cannot be checked, so it is not trusted',
    [['+\tret = __rmpupdate(pfn, state);\n', '+\tret = snp_rmpupdate_insn(pfn, state);\n']],
  ],
  [[], 'the uAPI fields named start_gfn, hva, size and kind, in the struct and every use', RENAMED_FIELDS],
  [
    [],
    'the pin in a helper that returns the page array (a pointer-returning declarator)',
    [
      [
        LAUNCH_UPDATE,
        `+static struct page **snp_pin(struct kvm *kvm, u64 uaddr, unsigned long npages)\n+{\n+\treturn sev_pin_user_range(kvm, uaddr, npages);\n+}\n+\n${LAUNCH_UPDATE}`,
      ],
      ['sev_pin_user_range(kvm, params.uaddr, npages);', 'snp_pin(kvm, params.uaddr, npages);'],
    ],
  ],
  [
    [],
    'the uAPI fields named gfn and src, as kvm_gmem_populate() calls them',
    [...renameField('gfn_start', 'gfn'), ...renameField('uaddr', 'src')],
  ],
  [
    [],
    'the gpa computed by a helper the patch defines, handed a pointer to the struct',
    [
      [
        LAUNCH_UPDATE,
        `+static u64 snp_page_gpa(const struct kvm_sev_snp_launch_update *p, unsigned long n)\n+{\n+\treturn gfn_to_gpa(p->gfn_start + n);\n+}\n+\n${LAUNCH_UPDATE}`,
      ],
      [GPA, '+\t\tu64 gpa = snp_page_gpa(&params, i);\n'],
    ],
  ],
  [
    ['no-memslot-srcu', 'uapi-hva-and-gpa'],
    'a gfn_start field that launch update ignores: the gpa comes from the memslot of the hva',
    [GPA_FROM_MEMSLOT],
  ],
  [
    ['uapi-codec-layout'],
    "gfn_start and uaddr swapped in the struct: the codec's addresses land on each other",
    [
      [
        '+\t__u64 gfn_start;\t/* guest frame of the first page: userspace says where */\n+\t__u64 uaddr;\t\t/* host virtual address of the first page: what KVM pins */\n',
        '+\t__u64 uaddr;\n+\t__u64 gfn_start;\n',
      ],
    ],
  ],
  [
    ['uapi-codec-layout'],
    'the struct as reviewed, but the code pins gfn_start and assigns the RMP entry from uaddr',
    [
      [GPA, '+\t\tu64 gpa = (params.uaddr + i) << PAGE_SHIFT;\n'],
      ['sev_pin_user_range(kvm, params.uaddr, npages)', 'sev_pin_user_range(kvm, params.gfn_start, npages)'],
    ],
  ],
  [
    ['uapi-codec-layout'],
    'type widened to __u16: flags moves to 28, the struct to 72 bytes',
    [['+\t__u8 type;', '+\t__u16 type;']],
  ],
  [
    [],
    'logging and warnings added (pr_debug, WARN_ON_ONCE): known to be harmless',
    [
      [
        '+\t\t\tret = -EIO;\n',
        '+\t\t\tpr_debug("%s: SNP_LAUNCH_UPDATE failed on pfn 0x%llx\\n", __func__, pfns[i]);\n+\t\t\tWARN_ON_ONCE(!changed);\n+\t\t\tret = -EIO;\n',
      ],
    ],
  ],
];

async function check(edits: readonly Edit[]) {
  let text = reviewed;
  for (const [find, replace] of edits) {
    expect(text, find).toContain(find);
    text = text.replace(find, replace);
  }
  const file = join(mkdtempSync(join(work, 'p-')), 'rewritten.patch');
  writeFileSync(file, recountHunks(text));
  return conform(repo, file);
}

describe('static rules judge what the C does, on rewrites of reviewed.patch', () => {
  it.each(FIXTURES)('fires %j on %s', async (rules, _, edits) => {
    const report = await check(edits);
    expect([...new Set(report.findings.map((f) => f.rule))].sort()).toEqual([...rules].sort());
  });

  it('says where the guest address comes from when no field of the struct is it, and notes renamed fields', async () => {
    const memslot = await check([GPA_FROM_MEMSLOT]);
    expect(memslot.findings.find((f) => f.rule === 'uapi-hva-and-gpa')?.message).toBe(
      'struct kvm_sev_snp_launch_update has no guest address: no field of it reaches the guest address of rmp_make_private(); it comes from a memslot lookup: hva_to_gfn_memslot()',
    );
    const renamed = await check(RENAMED_FIELDS);
    expect(renamed.notes).toEqual([
      'struct kvm_sev_snp_launch_update names fields otherwise than the codec, matched by offset: gfnStart is start_gfn, uaddr is hva, len is size, type is kind',
    ]);
  });

  it('lists a call into code neither the patch nor the catalogue describes as not analysed, and trusts it with nothing', async () => {
    const report = await check([
      [
        '+\t\tset_page_dirty_lock(pages[i]);\n+\t\tmark_page_accessed(pages[i]);\n+\t\tunpin_user_page(pages[i]);\n',
        '+\t\tsnp_release_page(pages[i]);\n',
      ],
    ]);
    expect(report.notAnalysed).toContain('snp_release_page');
    expect(report.findings.map((f) => f.rule)).toEqual(['dirty-accessed-unpin']);
  });

  it('follows the model path by path too: an early return after the pin, in TS', async () => {
    const root = mkdtempSync(join(work, 'root-'));
    for (const pkg of MODEL_PACKAGES)
      cpSync(join(repo, pkg, 'src'), join(root, pkg, 'src'), { recursive: true });
    cpSync(join(repo, 'patches'), join(root, 'patches'), { recursive: true });
    const file = join(root, 'packages/kvm-svm/src/snp/launchUpdate.ts');
    const anchor = '  const changed: number[] = []; // pages this call made private, in order\n';
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(anchor);
    writeFileSync(
      file,
      text.replace(anchor, `  if (pages > 512) return fail('launch_update.len', 'too long');\n${anchor}`),
    );
    const report = await conform(root, join(root, 'patches/reviewed.patch'));
    expect(report.findings.map((f) => [f.rule, f.ts?.file])).toEqual([
      ['dirty-accessed-unpin', 'packages/kvm-svm/src/snp/launchUpdate.ts'],
    ]);
  });
});
