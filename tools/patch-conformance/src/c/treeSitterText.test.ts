// The kernel constructs tree-sitter-c does not know, in the shapes arch/x86/kvm/svm/sev.c uses them
// (the C here is written for these tests): each parses, its function is analysed whole, and the
// text tree-sitter is given keeps every line of the input where it was.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Node } from 'web-tree-sitter';
import { posted } from '../test/postedPatch.js';
import { parseC, parseCSources } from './cModel.js';
import { forTreeSitter } from './treeSitterText.js';

/** A function of the kernel's shape around `body` (tab-indented statements). */
const fn = (body: string) => `static int shaped(struct kvm *kvm, struct kvm_sev_cmd *argp)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;
	int ret = 0;

${body}
	return ret;
}`;

const CONSTRUCTS: readonly (readonly [string, string])[] = [
  ['list_for_each_entry', '\tlist_for_each_entry(region, &sev->regions_list, list) {\n\t\tret++;\n\t}'],
  [
    'list_for_each_entry_safe over two lines',
    '\tlist_for_each_entry_safe(region, next,\n\t\t\t\t &sev->regions_list, list)\n\t\tkfree(region);',
  ],
  ['list_for_each_safe', '\tlist_for_each_safe(pos, q, head) {\n\t\tlist_del(pos);\n\t}'],
  [
    'kvm_for_each_vcpu',
    '\tkvm_for_each_vcpu(i, vcpu, kvm) {\n\t\tret = sev_es_sync_vmsa(to_svm(vcpu));\n\t}',
  ],
  ['kvm_for_each_memslot', '\tkvm_for_each_memslot(slot, bkt, slots)\n\t\tret += slot->npages;'],
  ['xa_for_each', '\txa_for_each(&sev->pages, index, page)\n\t\tput_page(page);'],
  ['for_each_set_bit', '\tfor_each_set_bit(bit, bitmap, nbits)\n\t\tret |= bit;'],
  ['for_each_possible_cpu', '\tfor_each_possible_cpu(cpu) {\n\t\tsd = per_cpu_ptr(&svm_data, cpu);\n\t}'],
  ['scoped_guard', '\tscoped_guard(mutex, &kvm->slots_lock) {\n\t\tret = 1;\n\t}'],
  ['scoped_guard as an if body', '\tif (ret)\n\t\tscoped_guard(mutex, &kvm->lock) {\n\t\t\tret = 2;\n\t\t}'],
  ['list_entry with a type argument', '\tregion = list_entry(pos, struct enc_region, list);'],
  ['__free', '\tvoid *buf __free(kfree) = kzalloc(PAGE_SIZE, GFP_KERNEL);'],
  ['__aligned', '\tu8 digest[48] __aligned(8);'],
];

const rowOf = (node: Node | null | undefined) => node?.startPosition.row;

describe('the C tree-sitter-c is given', () => {
  it.each(CONSTRUCTS)('%s parses, and its function is analysed whole', async (_, body) => {
    const parsed = await parseCSources(posted({ 'arch/x86/kvm/svm/sev.c': fn(body) }));

    expect(parsed.withErrors).toEqual([]);
    const shaped = parsed.functions.get('shaped')?.node;
    expect(shaped?.hasError).toBe(false);
    // No statement read as a function defined inside the function (how `for_each_possible_cpu(cpu) {` read).
    expect(shaped?.childForFieldName('body')?.descendantsOfType('function_definition')).toEqual([]);
  });

  it('makes an iterating macro a for loop over what it walks, whose iterators step on every pass', async () => {
    const code = fn(
      '\tlist_for_each_entry_safe(region, next,\n\t\t\t\t &sev->regions_list, list)\n\t\tkfree(region);',
    );
    const loop = (await parseC(forTreeSitter(code)))?.rootNode.descendantsOfType('for_statement')[0];

    expect(loop?.childForFieldName('condition')?.text).toBe('region != &sev->regions_list');
    expect(loop?.childForFieldName('update')?.text).toBe('region++, next = region');
    // The loop and its body stay on their lines.
    expect(rowOf(loop)).toBe(code.split('\n').indexOf('\tlist_for_each_entry_safe(region, next,'));
    expect(rowOf(loop?.childForFieldName('body'))).toBe(code.split('\n').indexOf('\t\tkfree(region);'));
  });

  it.each([
    // include/linux/rculist.h: a lockdep condition may follow the member.
    ['list_for_each_entry_rcu(d, &done, list, lockdep_is_held(&kvm->lock))', 'd != &done', 'd++'],
    ['list_for_each_entry_srcu(d, &done, list, srcu_read_lock_held(&kvm->srcu))', 'd != &done', 'd++'],
    ['list_for_each_entry_safe(d, n, &done, list)', 'd != &done', 'd++, n = d'],
    ['hlist_for_each_entry_rcu(e, &bucket, node)', 'e != &bucket', 'e++'],
    ['hlist_for_each_entry_continue(e, node)', 'e', 'e++'],
  ])('%s walks the head, whatever follows the member', async (header, condition, update) => {
    const loop = (await parseC(forTreeSitter(fn(`\t${header}\n\t\tret++;`))))?.rootNode.descendantsOfType(
      'for_statement',
    )[0];

    expect(loop?.childForFieldName('condition')?.text).toBe(condition);
    expect(loop?.childForFieldName('update')?.text).toBe(update);
  });

  it('leaves a for_each name alone where it is not a statement macro: a call of what it returns, a product, an argument chosen by #ifdef', () => {
    for (const body of [
      '\tget_for_each_cb(ops)(data);',
      '\tret = 1;\n\tfoo_for_each(a) * ret;',
      '\tlist_for_each_entry(p,\n#ifdef CONFIG_X\n\t\t&a,\n#else\n\t\t&b,\n#endif\n\t\tlist)\n\t\tret++;',
    ])
      expect(forTreeSitter(fn(body))).toBe(fn(body));
    // On a line of its own, `(`… or `*`… is the statement the macro repeats.
    expect(forTreeSitter(fn('\tlist_for_each(p, h)\n\t\t*x = 1;'))).toContain('for (;p != h; p++)');
  });

  it('stays linear on input that leaves brackets open or names for_each many times', () => {
    // Each took minutes before (a scan to the end of the text per open bracket, a backtracking
    // pattern on a long name); now a few hundred milliseconds: the 60 s limit only catches a relapse.
    for (const body of [
      '\tvoid *p __free('.repeat(40_000),
      '\t;for_each_x('.repeat(40_000),
      `\tret = a${'for_each'.repeat(20_000)}b;`,
      `\tret = ${'('.repeat(100_000)}1${')'.repeat(100_000)};`,
    ])
      expect(forTreeSitter(fn(body)).split('\n')).toHaveLength(fn(body).split('\n').length);
  }, 60_000);

  it('runs a scoped_guard body once, right after the guard, not as a loop', async () => {
    const code = fn('\tscoped_guard(mutex, &kvm->slots_lock) {\n\t\tret = 1;\n\t}');
    const shaped = (await parseC(forTreeSitter(code)))?.rootNode.descendantsOfType('function_definition')[0];
    const statements = shaped
      ?.childForFieldName('body')
      ?.namedChildren.filter((s) => s?.type !== 'declaration');

    expect(statements?.map((s) => [s?.type, s?.text.split('\n')[0]])).toEqual([
      ['expression_statement', 'scoped_guard(mutex, &kvm->slots_lock);'],
      ['compound_statement', '{'],
      ['return_statement', 'return ret;'],
    ]);
    expect(shaped?.descendantsOfType(['for_statement', 'while_statement', 'do_statement'])).toEqual([]);
  });

  it("rewrites the statement macro, and leaves the same words alone in strings, comments, expressions and a struct's fields", () => {
    const lines = [
      '\tpr_info("list_for_each_entry(a, b, c) {\\n");',
      '\t/* kvm_for_each_vcpu(i, vcpu, kvm) { */',
      '\tret = kvm_for_each_done(kvm);',
      '\tret = sizeof(struct page) + offsetof(struct ghcb, save);',
      '\tpage = (struct page *)argp;',
      '\tkvm_for_each_vcpu(i, vcpu, kvm) {',
      '\t}',
    ];
    // A field's alignment is its struct's layout (src/c/layout.ts): kept for the layout rule to see.
    const code = `struct kvm_sev_aligned {\n\t__u32 flags __aligned(8);\n};\n${fn(lines.join('\n'))}`;
    const out = forTreeSitter(code).split('\n');

    const changed = code.split('\n').flatMap((line, row) => (out[row] === line ? [] : [line]));
    expect(changed).toEqual(['\tkvm_for_each_vcpu(i, vcpu, kvm) {']);
  });
});

// ---- property: the rewrite keeps the lines ----

/** A line of a generated body, and whether the rewrite may change it (it holds a construct). */
interface Line {
  readonly text: string;
  readonly construct: boolean;
}
const plain = (...texts: string[]): Line[] => texts.map((text) => ({ text, construct: false }));
const construct = (text: string): Line => ({ text, construct: true });
const indent = (lines: readonly Line[]) => lines.map((l) => ({ ...l, text: `\t${l.text}` }));

const statement = fc.constantFrom<Line[]>(
  plain('\tret = ret + 1;'),
  plain('\tif (ret)', '\t\tgoto out;'),
  plain('\tpr_info("for_each_cpu(c) { %d\\n", ret);'),
  plain('\t/* list_for_each_entry(pos, head, member) { */'),
  plain('\tret = kvm_for_each_done(kvm);'),
  plain('\tret = sizeof(struct page);'),
  plain('\tguard(mutex)(&kvm->lock);'),
  plain('\tret = ({ int t = 2; t * 3; });'),
  [construct('\tvoid __user *src = NULL;')],
  [construct('\tvoid *buf __free(kfree) = NULL;')],
  [construct('\tu8 data[16] __aligned(sizeof(u64));')],
  [construct('\tregion = list_entry(pos, struct enc_region, list);')],
);

/** A construct with a body of `inner` statements: its header lines change, its body's do not. */
const block = (inner: Line[][]) => {
  const body = indent(inner.flat());
  return fc.constantFrom<Line[]>(
    [construct('\tlist_for_each_entry(pos, &kvm->head, list) {'), ...body, ...plain('\t}')],
    [
      construct('\tlist_for_each_entry_safe(pos, n,'),
      construct('\t\t\t\t &sev->regions_list, list) {'),
      ...body,
      ...plain('\t}'),
    ],
    [construct('\tkvm_for_each_vcpu(i, vcpu, kvm) {'), ...body, ...plain('\t}')],
    [construct('\txa_for_each(&kvm->pages, index,'), construct('\t\t    entry) {'), ...body, ...plain('\t}')],
    [construct('\tfor_each_set_bit(bit, bitmap, 64) {'), ...body, ...plain('\t}')],
    [construct('\tfor_each_possible_cpu(cpu)'), ...plain('\t\tret++;')],
    [construct('\tscoped_guard(mutex, &kvm->lock) {'), ...body, ...plain('\t}')],
    // As an if's body the guard and its block are braced together: the closing line changes too.
    [
      ...plain('\tif (ret)'),
      construct('\t\tscoped_guard(mutex, &kvm->lock) {'),
      ...indent(body),
      construct('\t\t}'),
    ],
  );
};

const body = fc
  .array(fc.oneof(statement, fc.array(statement, { maxLength: 3 }).chain(block)), { maxLength: 8 })
  .map((chunks) => chunks.flat());

describe('the rewrite for tree-sitter (property)', () => {
  it('keeps the number of lines and every line without a construct byte for byte, and parses', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (lines) => {
        const all = [
          ...plain('static int f(struct kvm *kvm)', '{'),
          ...lines,
          ...plain('\treturn ret;', '}'),
        ];
        const code = all.map((l) => l.text).join('\n');
        const out = forTreeSitter(code).split('\n');

        expect(out).toHaveLength(all.length);
        all.forEach((line, row) => {
          if (!line.construct) expect(out[row]).toBe(line.text);
        });
        expect((await parseC(out.join('\n')))?.rootNode.hasError).toBe(false);
      }),
      { seed: 0x7ee5c, numRuns: 200 },
    );
  });
});
