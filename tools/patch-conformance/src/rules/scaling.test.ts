import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Node } from 'web-tree-sitter';
import { parsePatch } from '../c/patch.js';
import { conform } from '../conform.js';
import { sevPatchText } from '../test/patchText.js';

// snp-conform must not hang on a patch a user brings: the rules' work grows with the size of the
// patch's C, not with its square. Counted in the nodes tree-sitter's subtree walks hand out (each
// walk a pass in WASM, each node a new object), not in seconds, so that it cannot flake on a busy machine.

const repo = resolve(import.meta.dirname, '../../../..');

/** C of `n` parts of one kind: functions before the launch update, and statements of its body. */
interface Shape {
  readonly helpers?: string[];
  readonly body: string[];
}

const times = <T>(n: number, part: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => part(i));

const SHAPES: Readonly<Record<string, (n: number) => Shape>> = {
  // Each loop gives pages back, and each one's bound is checked against the loops that launch.
  loops: (n) => ({ body: times(n, () => '\tfor (i = 0; i < x; i++) rmp_make_shared(x + i, PG_LEVEL_4K);') }),
  ifs: (n) => ({ body: times(n, (i) => `\tif (x) rmpupdate(x + ${i}, 0);`) }),
  gotos: (n) => ({
    body: [...times(n, (i) => `\tif (x == ${i}) goto l${i};`), ...times(n, (i) => `l${i}:\n\tx++;`)],
  }),
  // A chain of helpers, each returning the next one's result: the uAPI rule follows each call.
  'chained helpers': (n) => ({
    helpers: times(
      n,
      (i) =>
        `static int f${i}(struct kvm *kvm, int x)\n{\n\tint i;\n\tfor (i = 0; i < x; i++) rmp_make_shared(x + i, PG_LEVEL_4K);\n\treturn ${i + 1 < n ? `f${i + 1}(kvm, x)` : '0'};\n}`,
    ),
    body: ['\tx = f0(kvm, x);'],
  }),
  // Pages pinned, then released by a chain of helpers that each call the next one twice.
  'twice-called helpers': (n) => ({
    helpers: times(n, (i) =>
      i + 1 < n
        ? `static void h${i}(struct page **p)\n{\n\tif (p) h${i + 1}(p);\n\tif (p) h${i + 1}(p);\n}`
        : `static void h${i}(struct page **p)\n{\n\tunpin_user_page(p[0]);\n}`,
    ).reverse(),
    body: [
      '\tstruct page **p;',
      '\tunsigned long np;',
      '\tp = sev_pin_memory(kvm, x, 4096, &np, 1);',
      '\tif (IS_ERR(p))\n\t\treturn -1;',
      '\th0(p);',
    ],
  }),
};

/** A posted patch of the reviewed uAPI struct, the helpers and snp_launch_update() with the body. */
function launchUpdatePatch({ helpers = [], body }: Shape): string {
  const code = [
    'struct kvm_sev_snp_launch_update { __u64 gfn_start; __u64 uaddr; __u64 len; __u8 type; __u8 pad0; __u16 flags; __u32 pad1; __u64 pad2[4]; };',
    ...helpers,
    'static int snp_launch_update(struct kvm *kvm, struct kvm_sev_cmd *argp)',
    '{',
    '\tint x = 0, i;',
    ...body,
    '\trmp_make_private(x, 0, PG_LEVEL_4K, 1, false);',
    '\treturn x;',
    '}',
  ].flatMap((line) => line.split('\n'));
  return sevPatchText(code);
}

/** The nodes tree-sitter subtree walks hand out in a static check of the patch. */
async function walked(text: string): Promise<number> {
  const walk = Node.prototype.descendantsOfType;
  let nodes = 0;
  vi.spyOn(Node.prototype, 'descendantsOfType').mockImplementation(function (this: Node, ...args) {
    const found = walk.apply(this, args);
    nodes += found.length;
    return found;
  });
  await conform(repo, parsePatch([{ name: 'scaling.patch', text }], 'scaling.patch'));
  vi.restoreAllMocks();
  return nodes;
}

describe('the static rules on a long launch update', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(Object.keys(SHAPES))(
    'walk %s about linearly in their number',
    async (shape) => {
      const parts = SHAPES[shape] ?? (() => ({ body: [] }));
      const [small, large] = [
        await walked(launchUpdatePatch(parts(40))),
        await walked(launchUpdatePatch(parts(160))),
      ];
      // Four times the parts: at most about four times the nodes walked (quadratic work would be 16×).
      expect(large / small, `${small} nodes walked for 40 parts, ${large} for 160`).toBeLessThanOrEqual(5);
    },
    60_000,
  );
});
