// The dynamic rule on the upstream flow (guest_memfd): patches/upstream.patch agrees with the
// upstream model (conform.test.ts), and each edit below, one a kernel developer could make, breaks
// a row of docs/spec-notes.md §3.3 or §4 and is caught by the harness alone (no static rule runs).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCSources } from '../c/cModel.js';
import { readPatch } from '../c/patch.js';
import { pairEntities } from '../pairing/pair.js';
import { recountHunks } from '../test/patchText.js';
import { dynamicFindings, dynamicRuns } from './index.js';

const root = resolve(import.meta.dirname, '../../../..');
const upstream = readFileSync(join(root, 'patches/upstream.patch'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'conform-upstream-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The upstream patch with each [from, to] replaced (each `from` must be there). */
function edited(...edits: readonly (readonly [from: string, to: string])[]): string {
  let text = upstream;
  for (const [from, to] of edits) {
    expect(text).toContain(from);
    text = text.replace(from, to);
  }
  return text;
}

/** The entities upstream.patch annotates: paired without loading the TS model (conform.test.ts runs it whole). */
const ENTITIES = new Set([
  'uapi.kvm_sev_snp_launch_update',
  'kvm.gmem_post_populate',
  'kvm.snp_launch_update',
]);

/** The findings of the dynamic rule and the harness rules on a patch text, as `rule: message`: its C run beside the upstream model. */
async function dynamic(text: string) {
  const file = join(mkdtempSync(join(work, 'patch-')), 'edited.patch');
  writeFileSync(file, recountHunks(text));
  const parsed = await parseCSources(readPatch(file));
  const c = {
    ...parsed,
    flavour: 'upstream',
    entities: pairEntities(parsed, ENTITIES, undefined).entities,
  } as const;
  return dynamicFindings(c, undefined, dynamicRuns(root, 'upstream')).map((f) => `${f.rule}: ${f.message}`);
}

/** A page the firmware took is remembered, and a later refusal reclaims them all with the refused one. */
const REVERT_THE_CALL: [string, string][] = [
  ['+\tint fw_error;\n+};', '+\tint fw_error;\n+\tkvm_pfn_t done[64];\n+\tint ndone;\n+};'],
  [
    '+\t\tif (ret)\n+\t\t\tgoto fw_err;\n+\t}',
    '+\t\tif (ret)\n+\t\t\tgoto fw_err;\n+\t\targs->done[args->ndone++] = pfn + i;\n+\t}',
  ],
  [
    '+\tn_private--;\n',
    '+\twhile (args->ndone)\n+\t\tsnp_page_reclaim(kvm, args->done[--args->ndone]);\n+\tn_private--;\n',
  ],
];

/** The RFC's in-place conversion: the VMM's source page, pinned, is what becomes private. */
const CONVERT_THE_SOURCE: [string, string][] = [
  [
    '+\t\tret = rmp_make_private(pfn + i,',
    '+\t\ttarget = pfn + i;\n+\t\tif (src) {\n' +
      '+\t\t\tstruct page **source = sev_pin_user_range(kvm, (u64)(uintptr_t)(src + i * PAGE_SIZE), 1);\n+\n' +
      '+\t\t\tif (!IS_ERR(source))\n+\t\t\t\ttarget = page_to_pfn(source[0]);\n+\t\t}\n' +
      '+\t\tret = rmp_make_private(target,',
  ],
  ['pfn_to_hpa(pfn + i)', 'pfn_to_hpa(target)'],
  ['+\t\tbool assigned;\n', '+\t\tbool assigned;\n+\t\tu64 target;\n'],
];

describe('the dynamic rule on the upstream flow', () => {
  it('finds nothing on the patch as written, on every upstream scenario and failure path', async () => {
    expect(await dynamic(upstream)).toEqual([]);
  }, 60_000);

  it.each([
    [
      'reclaims every page the call made private when the firmware refuses one, not that page alone',
      REVERT_THE_CALL,
      // Pages 0x100 and 0x101 were measured before the firmware refused 0x102: they stay the guest's.
      /^dynamic-trace: scenario 06-upstream-firmware-fails-midway: event 8 differs — C: rmp pfn=0x101 old=A=1 ASID=1 GPA=0x1000 IMM=0 V=1 new=A=0 ASID=0 GPA=0x0 IMM=0 V=0 \| TS: uapi /,
    ],
    [
      'does not write the progress back to userspace',
      [
        [
          '+\t\tif (copy_to_user(u64_to_user_ptr(argp->data), &params, sizeof(params)))\n+\t\t\tret = -EFAULT;\n',
          '',
        ],
      ],
      /^dynamic-trace: scenario 06-upstream-firmware-fails-midway: .*C: uapi 0000000000000000.* \| TS: uapi 0200000000000000/,
    ],
    [
      "returns populate's own errno rather than EIO",
      [['+\t\tret = -EIO;', '+\t\tret = count;']],
      /^dynamic-trace: scenario 07-upstream-refusals: .*C: result ret=-17 error=0x0 \| TS: result ret=-5 error=0x0/,
    ],
    [
      "converts the VMM's source page instead of copying it into guest_memfd's",
      CONVERT_THE_SOURCE,
      /^dynamic-trace: scenario 06-upstream-firmware-fails-midway: event 1 differs — C: rmp pfn=0x10 old=.* \| TS: rmp pfn=0x100 /,
    ],
    [
      'looks the memslot up without kvm->slots_lock',
      [
        ['+\tmutex_lock(&kvm->slots_lock);\n', ''],
        ['+\tmutex_unlock(&kvm->slots_lock);\n', ''],
      ],
      /^dynamic-trace: scenario 06-upstream-firmware-fails-midway: event 1 differs — C: unlocked kvm->slots_lock gfn_to_memslot/,
    ],
    [
      'does not copy a CPUID page the firmware corrected back to its source',
      [['+\t\tif (copy_to_user(src + i * PAGE_SIZE, vaddr, PAGE_SIZE))', '+\t\tif (vaddr == NULL)']],
      /^dynamic-trace: scenario 08-upstream-cpuid-copy-back: .*\| TS: uwrite hva=0x10000 len=4096/,
    ],
  ] as const)(
    'catches a patch that %s',
    async (_, edits, finding) => {
      const findings = await dynamic(edited(...edits));

      expect(findings).toContainEqual(expect.stringMatching(finding));
      expect(findings.every((f) => f.startsWith('dynamic-trace: '))).toBe(true);
    },
    60_000,
  );
});
