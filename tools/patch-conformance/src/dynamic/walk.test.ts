// The failure-path walk and the kernel vocabulary of the harness, on edited copies of the reviewed
// patch: each edit is one a kernel developer could make, harmless or not.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conform } from '../conform.js';
import { recountHunks } from '../test/patchText.js';

const root = resolve(import.meta.dirname, '../../../..');
const reviewed = readFileSync(join(root, 'patches/reviewed.patch'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'conform-walk-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The reviewed patch with each [from, to] replaced (each `from` must be there). */
function edited(...edits: readonly [from: string, to: string][]): string {
  let text = reviewed;
  for (const [from, to] of edits) {
    expect(text).toContain(from);
    text = text.replace(from, to);
  }
  return text;
}

/** The findings of the dynamic rule and the harness rules on a patch text. */
async function dynamic(text: string) {
  const file = join(mkdtempSync(join(work, 'patch-')), 'edited.patch');
  writeFileSync(file, recountHunks(text));
  const report = await conform(root, file, undefined, { dynamic: true });
  return report.findings.filter((f) => f.rule === 'dynamic-trace' || f.rule.startsWith('harness-'));
}

const RELEASE_LOOP = '+\tfor (i = 0; i < npages; i++) {\n+\t\tif (snp_page_leaked';
const REVERT_CALL = '+\tif (ret)\n+\t\tsnp_revert_touched(kvm, pfns, changed);\n';
/** Copies the progress back to userspace after the loop (the model does not): copy_to_user is a C-only fault site. */
const progressCopy = (onFailure: string) =>
  '+\tif (!ret && copy_to_user(u64_to_user_ptr(argp->data), &params, sizeof(params)))\n' +
  `+\t\t${onFailure};\n${REVERT_CALL}`;

describe('the failure-path walk', () => {
  it('catches a patch that forgets to unpin only when an allocation fails, on that path only', async () => {
    const findings = await dynamic(
      edited([
        '+\tif (!pfns) {\n+\t\tret = -ENOMEM;\n+\t\tgoto release;\n+\t}',
        '+\tif (!pfns)\n+\t\treturn -ENOMEM;',
      ]),
    );

    expect(findings.length).toBeGreaterThan(0);
    // Every finding is a walked path (no scenario as written fails an allocation) and shows the pages left pinned.
    for (const f of findings)
      expect(f.message).toMatch(/^scenario [^,:]+, an allocation fails at call \d+: .*C: pinned pfn=/);
  }, 60_000);

  it('takes pages released in reverse order as harmless', async () => {
    const findings = await dynamic(
      edited([RELEASE_LOOP, '+\tfor (i = npages; i-- > 0;) {\n+\t\tif (snp_page_leaked']),
    );

    expect(findings).toEqual([]);
  }, 60_000);

  it('catches an RMP write that bypasses the tracepoint through the raw helper', async () => {
    const findings = await dynamic(
      edited([
        '+\tstruct rmp_state state = { .pagesize = RMP_PG_SIZE_4K };\n+\n+\treturn rmpupdate(pfn, &state, "kvm");',
        '+\tstruct rmp_state state = { .pagesize = RMP_PG_SIZE_4K };\n+\n+\treturn __rmpupdate(pfn, &state);',
      ]),
    );

    expect(findings.map((f) => f.message)).toContainEqual(
      expect.stringMatching(/^scenario 02-firmware-fails-midway: .*C: untraced pfn=0x1/),
    );
  }, 60_000);

  it('fails the calls only the C makes too, and takes a progress copy that undoes the call on failure as harmless', async () => {
    const findings = await dynamic(edited([REVERT_CALL, progressCopy('ret = -EFAULT')]));

    expect(findings).toEqual([]);
  }, 60_000);

  it('checks the end state where the model has no counterpart: a failed progress copy that returns at once', async () => {
    const findings = await dynamic(edited([REVERT_CALL, progressCopy('return -EFAULT')]));

    expect(findings.map((f) => f.message)).toContainEqual(
      'scenario 01-success, copy_to_user() fails at call 1 (no counterpart in the model): ' +
        '4 pages left pinned (pfn 0x10, 0x11, 0x12, 0x13); ' +
        '4 pages left assigned by the failed call, neither given back nor leaked (pfn 0x10, 0x11, 0x12, 0x13)',
    );
  }, 60_000);

  it('catches a release of a leaked page, whose pin is what keeps it from the allocator', async () => {
    const findings = await dynamic(
      edited(['+\t\tif (snp_page_leaked(page_to_pfn(pages[i])))\n+\t\t\tcontinue;\n', '']),
    );

    // Giving page 0x12 back fails when rmpupdate() fails during the revert: the model keeps its pin, the C releases it.
    expect(findings.map((f) => f.message)).toContainEqual(
      expect.stringMatching(
        /^scenario 02-firmware-fails-midway, rmpupdate\(\) fails at call 4: .*\| TS: pinned pfn=0x12 pins=1/,
      ),
    );
  }, 60_000);

  it('catches a release that marks pages dirty but not accessed, on every path that pins', async () => {
    const findings = await dynamic(edited(['+\t\tmark_page_accessed(pages[i]);\n', '']));

    expect(findings.map((f) => f.message)).toContainEqual(
      expect.stringMatching(/^scenario 01-success: .*C: release pfn=0x10 dirty=1 accessed=0/),
    );
  }, 60_000);
});

describe('the harness builds what kernel developers write', () => {
  it('compiles logging, WARN_ON, might_sleep, locks and the kvmalloc family, and the walk stays clean', async () => {
    const findings = await dynamic(
      edited(
        [
          '+\tnpages = params.len >> PAGE_SHIFT;\n',
          '+\tnpages = params.len >> PAGE_SHIFT;\n+\tif (WARN_ON_ONCE(!npages))\n+\t\treturn -EINVAL;\n' +
            '+\tpr_debug("%s: %lu pages at 0x%llx\\n", __func__, npages, (unsigned long long)params.uaddr);\n' +
            '+\tmight_sleep();\n+\tlockdep_assert_held(&kvm->lock);\n+\tguard(mutex)(&kvm->slots_lock);\n',
        ],
        [
          'pfns = kvcalloc(npages, sizeof(*pfns), GFP_KERNEL_ACCOUNT);',
          'pfns = kvmalloc_array(npages, sizeof(*pfns), GFP_KERNEL_ACCOUNT | __GFP_ZERO);',
        ],
        [
          '+\t\t\tret = -EIO;\n',
          '+\t\t\tpr_err_ratelimited("SNP_LAUNCH_UPDATE failed: %d\\n", argp->error);\n+\t\t\tret = -EIO;\n',
        ],
      ),
    );

    expect(findings).toEqual([]);
  }, 60_000);

  it('builds hunks in the order git format-patch emits them, with a function used before its definition', async () => {
    const [head = '', uapi = '', virt = '', kvm = ''] = reviewed.split(/(?=^--- a\/)/m);
    const revert = kvm.slice(
      kvm.indexOf('+/*\n+ * Gives back'),
      kvm.indexOf('+/* @snp-ref kvm.snp_launch_update */'),
    );
    // arch/ before include/, as format-patch sorts them; the revert helper after its caller.
    const reordered = head + virt + kvm.replace(revert, '') + revert + uapi;

    const findings = await dynamic(reordered);

    expect(findings).toEqual([]);
  }, 60_000);

  it('runs a uAPI struct whose fields are named differently: they are matched by offset', async () => {
    let text = reviewed;
    for (const [from, to] of [
      ['gfn_start', 'gfn'],
      ['uaddr', 'src_hva'],
      ['params.len', 'params.size'],
      ['__u64 len;', '__u64 size;'],
      ['params.type', 'params.page_type'],
      ['__u8 type;', '__u8 page_type;'],
    ] as const)
      text = text.replaceAll(from, to);

    const findings = await dynamic(text);

    expect(findings).toEqual([]);
  }, 60_000);

  it('names a symbol neither the patch nor the shim provides, at its line, as a harness-build finding', async () => {
    const findings = await dynamic(
      edited(['+\tint ret = 0;\n', '+\tint ret = 0;\n+\tsnp_count_launch(kvm);\n']),
    );

    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'harness-build',
        message: 'snp_count_launch is used but neither the patch nor the shim declares it',
        c: expect.objectContaining({ line: expect.any(Number) }),
      }),
    ]);
  }, 60_000);
});
