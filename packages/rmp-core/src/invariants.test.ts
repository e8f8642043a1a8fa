import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GuestAsidVmpl } from './access.js';
import type { RmpEntry } from './entry.js';
import { psmash } from './instructions/psmash.js';
import { type PvalidateOperand, pvalidate } from './instructions/pvalidate.js';
import { type RmpAdjustOperand, rmpadjust } from './instructions/rmpadjust.js';
import { type RmpState, rmpupdate } from './instructions/rmpupdate.js';
import { checkInvariants } from './invariants.js';
import { RmpTable } from './table.js';
import { entry, snapshot } from './test/fixtures.js';

describe(checkInvariants, () => {
  it.each([
    ['validated-unassigned', [[0x10, entry({ validated: true })]]],
    ['vmsa-unassigned', [[0x10, entry({ vmsa: true })]]],
    ['hypervisor-page-with-owner', [[0x10, entry({ asid: 4 })]]],
    ['firmware-page-validated', [[0x10, entry({ assigned: true, immutable: true, validated: true })]]],
    ['2m-gpa-misaligned', [[0x200, entry({ assigned: true, asid: 1, pageSize: '2M', gpa: 0x1000 })]]],
    ['2m-range-disagrees', [[0x200, entry({ assigned: true, asid: 1, pageSize: '2M' })]]],
    ['2m-entry-outside-2m-page', [[0x201, entry({ assigned: true, asid: 1, pageSize: '2M' })]]],
  ] as [string, [number, RmpEntry][]][])('reports %s', (rule, writes) => {
    const table = RmpTable.create(4096);
    for (const [pfn, e] of writes) table.write(pfn, e);

    expect(checkInvariants(table).map((v) => v.rule)).toContain(rule);
  });

  it('accepts the firmware-reclaimed state: assigned to ASID 0, no longer immutable (SNP_PAGE_RECLAIM)', () => {
    const table = RmpTable.create(4096);
    table.write(0x10, entry({ assigned: true }));
    expect(checkInvariants(table)).toEqual([]);
  });

  it('names the page and the rule in its message', () => {
    const table = RmpTable.create(4096);
    table.write(0x10, entry({ validated: true }));

    expect(checkInvariants(table)).toEqual([
      { rule: 'validated-unassigned', pfn: 0x10, message: 'pfn 0x10: validated but not assigned' },
    ]);
  });

  it.each([
    ['vmsa-unassigned', entry({ vmsa: true }), 'VMSA but not assigned'],
    [
      'hypervisor-page-with-owner',
      entry({ immutable: true }),
      'not assigned, yet has an ASID or is immutable',
    ],
    [
      'firmware-page-validated',
      entry({ assigned: true, validated: true }),
      'page of ASID 0 (firmware or reclaimed) marked validated',
    ],
  ])('reports %s with its message', (rule, e, message) => {
    const table = RmpTable.create(4096);
    table.write(0x10, e);

    expect(checkInvariants(table)).toEqual([{ rule, pfn: 0x10, message: `pfn 0x10: ${message}` }]);
  });

  it('accepts validated guest pages of any ASID but 0, and unvalidated firmware pages', () => {
    const table = RmpTable.create(4096);
    table.write(0x10, entry({ assigned: true, asid: 1, gpa: 0x5000, validated: true, vmplPerms: [1, 2, 3] }));
    table.write(0x11, entry({ assigned: true, asid: 1023, validated: true, vmsa: true }));
    table.write(0x12, entry({ assigned: true, immutable: true }));
    table.write(0x13, entry({ assigned: true, asid: 2 }));

    expect(checkInvariants(table)).toEqual([]);
  });

  describe('2M pages', () => {
    const page2M: RmpEntry = entry({
      assigned: true,
      asid: 1,
      pageSize: '2M',
      gpa: 0x40_0000,
      validated: true,
      vmplPerms: [3, 1, 0],
    });
    /** A 2M page at 0x200 written entry by entry, with `sub` at pfn 0x234 instead of its own entry. */
    function twoMegTable(sub?: RmpEntry): RmpTable {
      const table = RmpTable.create(4096);
      for (let i = 0; i < 512; i++) table.write(0x200 + i, { ...page2M, gpa: page2M.gpa + i * 4096 });
      if (sub !== undefined) table.write(0x234, sub);
      return table;
    }
    const own234 = { ...page2M, gpa: 0x43_4000 };

    it('accepts a 2M page whose 512 entries agree, with consecutive gpas', () => {
      expect(checkInvariants(twoMegTable())).toEqual([]);
    });

    it.each([
      ['another ASID', { ...own234, asid: 2 }],
      ['the gpa of the head', { ...own234, gpa: 0x40_0000 }],
      ['page size 4K', { ...own234, pageSize: '4K' }],
      ['assigned clear', { ...own234, assigned: false, asid: 0, validated: false }],
      ['immutable set', { ...own234, immutable: true }],
      ['validated clear', { ...own234, validated: false }],
      ['VMSA set', { ...own234, vmsa: true }],
      ['other VMPL1 permissions', { ...own234, vmplPerms: [1, 1, 0] }],
      ['other VMPL2 permissions', { ...own234, vmplPerms: [3, 0, 0] }],
      ['other VMPL3 permissions', { ...own234, vmplPerms: [3, 1, 4] }],
    ] as [string, RmpEntry][])(
      'reports an entry of the range with %s as 2m-range-disagrees',
      (_name, sub) => {
        const violations = checkInvariants(twoMegTable(sub)).filter((v) => v.rule === '2m-range-disagrees');

        expect(violations).toEqual([
          {
            rule: '2m-range-disagrees',
            pfn: 0x234,
            message: 'pfn 0x234: disagrees with the 2M page at 0x200 (expected gpa 0x434000)',
          },
        ]);
      },
    );

    it('reports an unassigned 2M entry inside the range as 2m-range-disagrees', () => {
      const violations = checkInvariants(twoMegTable(entry({ pageSize: '2M' })));

      expect(violations.map((v) => [v.rule, v.pfn])).toEqual([['2m-range-disagrees', 0x234]]);
    });

    it('reports a 2M page at a gpa that is not 2M aligned, with the gpa', () => {
      const table = RmpTable.create(4096);
      for (let i = 0; i < 512; i++) table.write(0x200 + i, { ...page2M, gpa: 0x40_1000 + i * 4096 });

      expect(checkInvariants(table)).toEqual([
        {
          rule: '2m-gpa-misaligned',
          pfn: 0x200,
          message: 'pfn 0x200: 2M page at gpa 0x401000, not 2M aligned',
        },
      ]);
    });

    it('reports an assigned 2M entry whose 2M-aligned entry is an unassigned 2M entry', () => {
      const table = RmpTable.create(4096);
      table.write(0x200, entry({ pageSize: '2M' })); // what rmp_make_shared() leaves
      table.write(0x201, { ...page2M, gpa: 0x40_1000 });

      expect(checkInvariants(table)).toEqual([
        {
          rule: '2m-entry-outside-2m-page',
          pfn: 0x201,
          message: 'pfn 0x201: a 2M entry, but its 2M-aligned entry 0x200 is not an assigned 2M page',
        },
      ]);
    });

    it('checks only the pages a partly covered last region has', () => {
      const table = RmpTable.create(0x300);
      for (let i = 0; i < 0x100; i++) table.write(0x200 + i, { ...page2M, gpa: page2M.gpa + i * 4096 });

      expect(checkInvariants(table)).toEqual([]);
    });
  });
});

// Pages around 2 MiB boundaries of a 2048-page host, where 4K and 2M entries meet.
const pfn = fc.oneof(
  fc.constantFrom(0, 1, 0x1ff, 0x200, 0x201, 0x3ff, 0x400, 0x7ff),
  fc.integer({ min: 0, max: 2047 }),
);
const gpa = fc.oneof(
  fc.constantFrom(0, 0x20_0000),
  fc.integer({ min: 0, max: 1023 }).map((g) => g * 4096),
);
const pageSize = fc.constantFrom('4K' as const, '2M' as const);
const guest: fc.Arbitrary<GuestAsidVmpl> = fc.record({
  asid: fc.integer({ min: 0, max: 2 }),
  vmpl: fc.constantFrom(0 as const, 1 as const),
});
const state: fc.Arbitrary<RmpState> = fc
  .record({
    gpa,
    assigned: fc.boolean(),
    pageSize,
    immutable: fc.boolean(),
    asid: fc.integer({ min: 0, max: 2 }),
  })
  .map((s) => (s.assigned ? s : { ...s, asid: 0, immutable: false }));

type Op =
  | { op: 'rmpupdate'; pfn: number; state: RmpState }
  | { op: 'psmash'; pfn: number }
  | { op: 'pvalidate'; guest: GuestAsidVmpl; operand: PvalidateOperand }
  | { op: 'rmpadjust'; guest: GuestAsidVmpl; operand: RmpAdjustOperand };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('rmpupdate' as const), pfn, state }),
  fc.record({ op: fc.constant('psmash' as const), pfn }),
  fc.record({
    op: fc.constant('pvalidate' as const),
    guest,
    operand: fc.record({ pfn, gpa, pageSize, validate: fc.boolean() }),
  }),
  fc.record({
    op: fc.constant('rmpadjust' as const),
    guest,
    operand: fc.record({
      pfn,
      gpa,
      pageSize,
      targetVmpl: fc.integer({ min: 0, max: 3 }),
      perms: fc.integer({ min: 0, max: 0x1f }),
      vmsa: fc.boolean(),
    }),
  }),
);

/** Runs one operation; true when it succeeded. */
function run(table: RmpTable, o: Op): boolean {
  const ok = (outcome: { kind: string; ret?: number }) => outcome.kind === 'ret' && outcome.ret === 0;
  switch (o.op) {
    case 'rmpupdate':
      return rmpupdate(table, o.pfn, o.state) === 0;
    case 'psmash':
      return psmash(table, o.pfn) === 0;
    case 'pvalidate':
      return ok(pvalidate(table, o.guest, o.operand));
    case 'rmpadjust':
      return ok(rmpadjust(table, o.guest, o.operand));
  }
}

describe('the RMP instructions', () => {
  it('keep every invariant, and change nothing when they fail, under any sequence of operations', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const table = RmpTable.create(2048);
        for (const o of ops) {
          const before = snapshot(table);
          if (!run(table, o)) expect(snapshot(table)).toEqual(before);
          expect(checkInvariants(table)).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
