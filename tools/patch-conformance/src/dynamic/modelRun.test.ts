import { parseScenario, type Scenario } from '@snp-ref/scenario';
import { describe, expect, it } from 'vitest';
import { C_ONLY_PER_SITE, cOnlyRuns, type HarnessRun, harnessCalls, harnessRuns } from './modelRun.js';

const scenario = (steps: unknown[], extra: object = {}): Scenario => {
  const parsed = parseScenario({ scenario: 1, host: { pages: 64 }, steps, ...extra });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.scenario;
};
const launch = [
  { op: 'vm.create', vm: 'a', asid: 3 },
  { op: 'mmap', vm: 'a', hva: '0x10000', pfn: 16, pages: 2 },
  { op: 'snp.launch_start', vm: 'a' },
];
const update = (gpa: string) => ({
  op: 'snp.launch_update',
  vm: 'a',
  hva: '0x10000',
  gpa,
  len: '4KiB',
  type: 'normal',
});

/** The scenario as written: the first of harnessRuns. */
const harnessRun = (name: string, s: Scenario) => {
  const runs = harnessRuns(name, s);
  return typeof runs === 'string' ? runs : (runs[0] as HarnessRun);
};

describe(harnessRuns, () => {
  it('gives the harness the ASID the model chose and the model trace of the update', () => {
    const run = harnessRun('one', scenario([...launch, update('0x2000')], { kvm: { abi: 'v4' } }));

    expect(run).toEqual({
      name: 'one',
      input: ['reject 0', 'asid 3', 'map 10000 10 2', { gfn: 2, uaddr: 0x10000, len: 4096, type: 1 }],
      expected: [
        'rmp pfn=0x10 old=A=0 ASID=0 GPA=0x0 IMM=0 V=0 new=A=1 ASID=3 GPA=0x2000 IMM=1 V=0',
        'rmp pfn=0x10 old=A=1 ASID=3 GPA=0x2000 IMM=1 V=0 new=A=1 ASID=3 GPA=0x2000 IMM=0 V=1',
        'release pfn=0x10 dirty=1 accessed=1',
        'result ret=0',
      ],
      // What the failure-path walk needs: the model's calls per fault site, and where an `inject` line goes.
      walk: {
        calls: { 'psp.launch_update': 1, rmpupdate: 1, pin: 1, alloc: 2, copy_from_user: 1, copy_to_user: 0 },
        at: 3,
      },
    });
  });

  it('leaves out updates the uAPI or the harness cannot express: an unaligned gpa, before LAUNCH_START', () => {
    const [create, map, start] = launch;
    const run = harnessRun('dropped', scenario([create, map, update('0x0'), start, update('0x10')]));

    expect(typeof run === 'string' ? run : run.input).toEqual(['reject 0', 'asid 3', 'map 10000 10 2']);
  });

  it('says why a scenario does not apply', () => {
    const twoVms = scenario([...launch, { op: 'vm.create', vm: 'b' }]);
    const hugePage = scenario([
      ...launch,
      {
        op: 'hv.rmpupdate',
        pfn: 0,
        entry: { assigned: false, asid: 0, gpa: 0, pageSize: '2M', immutable: false },
      },
    ]);
    const guestStep = scenario([...launch, { op: 'guest.pvalidate', vm: 'a', gpa: 0, validate: true }]);

    expect(harnessRun('x', twoVms)).toBe('2 VMs (the harness runs one)');
    expect(harnessRun('x', hugePage)).toMatch(/2 MiB RMP entry/);
    expect(harnessRun('x', guestStep)).toMatch(/step guest.pvalidate/);
  });
});

describe('harnessRuns on the upstream ABI', () => {
  const upstream = (steps: unknown[]) => scenario(steps, { kvm: { abi: 'upstream' } });
  const gmem = [
    launch[0],
    launch[1],
    { op: 'gmem.create', vm: 'a', name: 'g', pfn: 32, pages: 2 },
    { op: 'memslot.set', vm: 'a', slot: 0, gpa: 0, hva: '0x10000', size: '8KiB', gmem: 'g' },
    { op: 'memory.attributes', vm: 'a', gpa: 0, size: '4KiB', private: true },
    launch[2],
  ];

  it('gives the harness the guest_memfd, its memslot and the private gfns, and expects the struct written back', () => {
    const run = harnessRun('up', upstream([...gmem, { ...update('0x0'), len: '8KiB' }]));
    if (typeof run === 'string') throw new Error(run);

    expect(run.input).toEqual([
      'reject 0',
      'asid 3',
      'map 10000 10 2',
      'gmem 0 20 2',
      'gslot 0 0 10000 8192 0 0',
      'attr 0 1 1',
      { gfn: 0, uaddr: 0x10000, len: 8192, type: 1 },
    ]);
    // One page done (gfn 1 is not private): the guest_memfd page, not the source, and the struct one page on.
    expect(run.expected).toEqual([
      'rmp pfn=0x20 old=A=0 ASID=0 GPA=0x0 IMM=0 V=0 new=A=1 ASID=3 GPA=0x0 IMM=1 V=0',
      'rmp pfn=0x20 old=A=1 ASID=3 GPA=0x0 IMM=1 V=0 new=A=1 ASID=3 GPA=0x0 IMM=0 V=1',
      `uapi 0100000000000000${'0010010000000000'}${'0010000000000000'}01${'0'.repeat(78)}`,
      'result ret=0 error=0x0',
    ]);
  });

  it('leaves out what the model refused: a memory-attributes range that is not page-aligned', () => {
    const run = harnessRun(
      'up',
      upstream([...gmem, { op: 'memory.attributes', vm: 'a', gpa: 1, size: 1, private: true }]),
    );

    expect(
      typeof run === 'string' ? run : run.input.filter((l) => typeof l === 'string' && l.startsWith('attr')),
    ).toEqual(['attr 0 1 1']);
  });
});

describe(cOnlyRuns, () => {
  it("fails each call the C made beyond the model's, on the C alone, at most C_ONLY_PER_SITE per site", () => {
    const clean = harnessRun('one', scenario([...launch, update('0x2000')]));
    const calls = harnessCalls([
      'result ret=0',
      'calls psp=1 rmpupdate=1 pin=1 alloc=2 copy_from_user=1 copy_to_user=1000',
    ]);
    if (typeof clean === 'string' || calls === undefined) throw new Error('no clean run or no calls line');

    const runs = cOnlyRuns(clean, calls);

    expect(runs).toHaveLength(C_ONLY_PER_SITE);
    expect(runs[0]).toEqual({
      name: 'one',
      path: 'copy_to_user() fails at call 1 (no counterpart in the model)',
      unfired: 'unfired copy_to_user 1',
      input: [
        'reject 0',
        'asid 3',
        'map 10000 10 2',
        'inject copy_to_user 1 0',
        { gfn: 2, uaddr: 0x10000, len: 4096, type: 1 },
      ],
    });
  });
});
