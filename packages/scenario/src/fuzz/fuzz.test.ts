import { PAGE_SIZE, TraceRing } from '@snp-ref/rmp-core';
import { describe, expect, it } from 'vitest';
import { parseScenario, type Step } from '../schema.js';
import { ScenarioSession, type StepResult } from '../session.js';
import { type CampaignReport, checkScenario, mergeShards, runCampaign } from './campaign.js';
import { type GeneratedScenario, generateScenario, HOST_PAGES } from './generate.js';
import { generateUpstreamScenario } from './generateUpstream.js';
import { HostChanges } from './hostChanges.js';
import { InvariantChecker } from './invariants.js';

/** A generated scenario's session, its steps parsed. */
function sessionOf(scenario: GeneratedScenario): { session: ScenarioSession; steps: Step[] } {
  const parsed = parseScenario(scenario);
  if (!parsed.ok) throw new Error(`fixture: ${JSON.stringify(parsed.problems)}`);
  return { session: new ScenarioSession(parsed.scenario, new TraceRing(64)), steps: parsed.scenario.steps };
}

describe('the fuzz campaign', () => {
  it('holds every invariant over a short campaign (the one npm test runs), reaching deep states', () => {
    const report = runCampaign({ runs: 150, seed: 20_261_125, steps: 40 });
    expect(report.failure, JSON.stringify(report.failure?.scenario)).toBeUndefined();
    expect(report).toMatchObject({ sequences: 150, steps: 6000 });
    expect(report.injected).toBeGreaterThan(100);
    expect(report.failedSteps).toBeGreaterThan(1000);
  });

  it('catches RFC v4 held to the reviewed promises, and shrinks it to a replayable scenario', () => {
    const report = runCampaign({ runs: 50, seed: 1, steps: 40, v4AsReviewed: true });
    const failure = report.failure;
    // v4 unpins its pages without marking them dirty: the first update shows it.
    expect(failure?.violation.rule).toBe('pinned-pages-released-dirty');
    expect(failure?.scenario.steps.length).toBeLessThanOrEqual(8);
    const replayed = failure && checkScenario(failure.scenario, true);
    expect(replayed && 'violation' in replayed && replayed.violation.rule).toBe(
      'pinned-pages-released-dirty',
    );
  });

  it('partitions a campaign into shards whose merged report is the whole one, and replays a seed', () => {
    const whole = runCampaign({ runs: 12, seed: 5, steps: 20 });
    const shards = [0, 1, 2].map((index) =>
      runCampaign({ runs: 12, seed: 5, steps: 20, shard: { index, count: 3 } }),
    );
    expect(shards.map((s) => s.sequences)).toEqual([4, 4, 4]);
    expect(mergeShards(5, shards)).toEqual(whole);
    expect(generateScenario(42, 30)).toEqual(generateScenario(42, 30));
  });

  it('merges failing shards into the failure of the earliest sequence, seeds wrapping at 2^32', () => {
    const selfTest = (shard?: { index: number; count: number }) =>
      runCampaign({ runs: 4, seed: 1, steps: 40, v4AsReviewed: true, ...(shard && { shard }) });
    const merged = mergeShards(
      1,
      [1, 0].map((index) => selfTest({ index, count: 2 })),
    );
    expect(merged.failure).toEqual(selfTest().failure);
    const failingAt = (seed: number): CampaignReport => ({
      ...{ sequences: 1, steps: 1, injected: 0, failedSteps: 0 },
      failure: {
        seed,
        step: 0,
        violation: { rule: 'rmp-table', message: '' },
        scenario: generateScenario(seed, 1),
      },
    });
    // From seed 2^32 - 1, sequence 0 has that seed and sequence 1 seed 0.
    expect(mergeShards(2 ** 32 - 1, [failingAt(0), failingAt(2 ** 32 - 1)]).failure?.seed).toBe(2 ** 32 - 1);
  });
});

/**
 * Runs `steps` under the checker (every step but the last must hold every invariant), then the last
 * step with `meddle` applied after the checker's look before it and `afterStep` after the step: what
 * the checker says of the last step, as "rule: message".
 */
function verdictOnLast(
  steps: Record<string, unknown>[],
  {
    meddle = () => {},
    afterStep = () => {},
    rejectAssignedOnUpdate = false,
    abi = 'reviewed',
  }: {
    meddle?: (s: ScenarioSession) => void;
    afterStep?: (s: ScenarioSession) => void;
    rejectAssignedOnUpdate?: boolean;
    abi?: 'reviewed' | 'upstream';
  } = {},
): string[] {
  const parsed = parseScenario({
    scenario: 1,
    host: { pages: 64 },
    kvm: { abi, rejectAssignedOnUpdate },
    steps,
  });
  if (!parsed.ok) throw new Error(`fixture: ${JSON.stringify(parsed)}`);
  const session = new ScenarioSession(parsed.scenario, new TraceRing(64));
  const checker = new InvariantChecker(session, rejectAssignedOnUpdate);
  const all = parsed.scenario.steps;
  for (const step of all.slice(0, -1)) {
    checker.before(step);
    expect(checker.after(step, session.run(step))).toEqual([]);
  }
  const last = all.at(-1) as Step;
  checker.before(last);
  meddle(session);
  const result = session.run(last);
  afterStep(session);
  return checker.after(last, result).map((v) => `${v.rule}: ${v.message}`);
}

/** VM a with four mapped pages at hva 0x10000, launching, its first two pages launched at gpa 0. */
const LAUNCHED = [
  { op: 'vm.create', vm: 'a' },
  { op: 'vm.create', vm: 'b' },
  { op: 'mmap', vm: 'a', hva: '0x10000', pfn: 0, pages: 4, fill: { seed: 'x' } },
  { op: 'snp.launch_start', vm: 'a' },
  { op: 'snp.launch_update', vm: 'a', hva: '0x10000', gpa: 0, len: '8KiB', type: 'normal' },
];
const QUERY = { op: 'rmp.query', pfn: 0 };
/** Pages 2 and 3 of VM a, the firmware refusing the second: page 2 is given back, page 3 never touched. */
const FAILING_UPDATE = [
  ...LAUNCHED,
  { op: 'inject', at: 'psp.launch_update', nth: 2, error: 'INVALID_PAGE_STATE' },
  { op: 'snp.launch_update', vm: 'a', hva: '0x12000', gpa: '0x2000', len: '8KiB', type: 'normal' },
];
const rulesOf = (verdict: string[]) => verdict.map((v) => v.slice(0, v.indexOf(':')));

describe('each invariant fires when the model breaks it', () => {
  it.each([
    [
      'rmp-table',
      (s: ScenarioSession) => s.machine.rmp.write(40, { ...s.machine.rmp.read(40), validated: true }),
    ],
    ['no-pin-leak', (s: ScenarioSession) => s.machine.pages.pin(2)],
    ['launched-page-in-one-guest', (s: ScenarioSession) => s.kvm.vm('b')?.privateMappings.set(7, 0)],
    [
      'measurement-matches-launched-pages',
      (s: ScenarioSession) => {
        // A page measured behind KVM's back: made pre-guest and given to the firmware directly.
        s.machine.hostRmp.makePrivate(3, 0x3000, s.kvm.vm('a')?.asid ?? 0, true, 'kvm');
        s.machine.firmware.launchUpdate(s.kvm.vm('a')?.gctx ?? 0, { pfn: 3, pageType: 3 });
      },
    ],
  ] as const)('%s', (rule, meddle) => {
    expect(rulesOf(verdictOnLast([...LAUNCHED, QUERY], { meddle, rejectAssignedOnUpdate: true }))).toContain(
      rule,
    );
  });

  it('holds on the fixtures left alone, failing update included', () => {
    expect(verdictOnLast([...LAUNCHED, QUERY], { rejectAssignedOnUpdate: true })).toEqual([]);
    expect(verdictOnLast(FAILING_UPDATE)).toEqual([]);
  });

  it('failed-update-changes-only-touched: a page the failed call did not touch changed', () => {
    // A revert that also resets the page launched by the earlier call.
    const meddle = (s: ScenarioSession) => {
      const reset = s.machine.hostRmp.resetToHypervisor.bind(s.machine.hostRmp);
      s.machine.hostRmp.resetToHypervisor = (pfn, by) => reset(pfn, by) || reset(0, by);
    };
    expect(verdictOnLast(FAILING_UPDATE, { meddle })).toContain(
      'failed-update-changes-only-touched: pfn 0x0, not touched by the failed call (EIO), changed',
    );
  });

  it('failed-update-changes-only-touched: a touched page was neither given back nor leaked', () => {
    const meddle = (s: ScenarioSession) => {
      s.machine.hostRmp.resetToHypervisor = () => 0; // claims SUCCESS, changes nothing
    };
    expect(verdictOnLast(FAILING_UPDATE, { meddle })).toContain(
      'failed-update-changes-only-touched: pfn 0x2, touched by the failed call, is still assigned and not leaked',
    );
  });

  it('failed-update-changes-only-touched: a touched page was leaked though nothing failed', () => {
    // A revert that leaks instead of resetting: rmpupdate() never ran, so it cannot have failed.
    const meddle = (s: ScenarioSession) => {
      s.machine.hostRmp.resetToHypervisor = () => 1;
    };
    const verdict = verdictOnLast(FAILING_UPDATE, { meddle });
    expect(verdict).toContain(
      'failed-update-changes-only-touched: pfn 0x2 was leaked, though nothing failed to give it back',
    );
  });

  it('failed-update-changes-only-touched: the page whose rmpupdate failed counts as untouched', () => {
    // Page 3's rmpupdate() fails; a revert that resets it anyway changes a page the call never had.
    const steps = [
      ...LAUNCHED,
      {
        op: 'hv.rmpupdate',
        pfn: 3,
        entry: { assigned: true, asid: 2, gpa: 0, pageSize: '4K', immutable: false },
      },
      { op: 'snp.launch_update', vm: 'a', hva: '0x12000', gpa: '0x2000', len: '8KiB', type: 'normal' },
    ];
    const meddle = (s: ScenarioSession) => {
      const reset = s.machine.hostRmp.resetToHypervisor.bind(s.machine.hostRmp);
      s.machine.hostRmp.resetToHypervisor = (pfn, by) => reset(pfn, by) || reset(3, by);
    };
    expect(verdictOnLast(steps, { rejectAssignedOnUpdate: true })).toEqual([]);
    expect(verdictOnLast(steps, { meddle, rejectAssignedOnUpdate: true })).toContain(
      'failed-update-changes-only-touched: pfn 0x3, not touched by the failed call (EBUSY), changed',
    );
  });

  it('pinned-pages-released-dirty: a pinned page released without its marks', () => {
    const meddle = (s: ScenarioSession) => {
      s.machine.pages.releaseDirty = (pfn) => s.machine.pages.unpin(pfn);
    };
    expect(verdictOnLast(FAILING_UPDATE, { meddle })).toContain(
      'pinned-pages-released-dirty: pfn 0x2 was pinned by the update and released without being marked dirty and accessed',
    );
  });

  it('updated-page-is-guest-valid: a page a successful update left immutable', () => {
    const afterStep = (s: ScenarioSession) =>
      s.machine.rmp.write(1, { ...s.machine.rmp.read(1), immutable: true });
    expect(rulesOf(verdictOnLast(LAUNCHED, { afterStep }))).toEqual(['updated-page-is-guest-valid']);
  });
});

describe('the guest instruction invariants', () => {
  const unvalidate = (s: ScenarioSession) =>
    s.machine.rmp.write(0, { ...s.machine.rmp.read(0), validated: false });
  const validate = (s: ScenarioSession) =>
    s.machine.rmp.write(0, { ...s.machine.rmp.read(0), validated: true });

  it('fires when a fault is not the one the access-check table predicts', () => {
    const read = [...LAUNCHED, { op: 'guest.read', vm: 'a', gpa: 0, len: 16 }];
    expect(verdictOnLast(read)).toEqual([]);
    expect(rulesOf(verdictOnLast(read, { meddle: unvalidate }))).toEqual(['guest-fault-as-predicted']); // OK → #VC
  });

  it('fires when PVALIDATE returns other than predicted, or leaves the RMP other than predicted', () => {
    const pvalidate = { op: 'guest.pvalidate', vm: 'a', gpa: 0, validate: true };
    expect(verdictOnLast([...LAUNCHED, pvalidate])).toEqual([]); // FAIL_NOUPDATE, as predicted
    expect(rulesOf(verdictOnLast([...LAUNCHED, pvalidate], { meddle: unvalidate }))).toEqual([
      'pvalidate-as-predicted',
    ]); // got SUCCESS
    const rescind = [...LAUNCHED, { ...pvalidate, validate: false }];
    expect(verdictOnLast(rescind)).toEqual([]);
    expect(rulesOf(verdictOnLast(rescind, { afterStep: validate }))).toEqual(['pvalidate-as-predicted']);
  });
});

describe('the upstream invariants', () => {
  /** VM a: sources pfns 0–3 at hva 0x10000, guest_memfd pfns 16–19 at gpa 0, all private; gfns 0–1 populated, gfn 2's firmware call refused. */
  const UPSTREAM = [
    { op: 'vm.create', vm: 'a' },
    { op: 'mmap', vm: 'a', hva: '0x10000', pfn: 0, pages: 4, fill: { seed: 'x' } },
    { op: 'gmem.create', vm: 'a', name: 'g', pfn: 16, pages: 4 },
    { op: 'memslot.set', vm: 'a', slot: 0, gpa: 0, hva: '0x10000', size: '16KiB', gmem: 'g' },
    { op: 'memory.attributes', vm: 'a', gpa: 0, size: '16KiB', private: true },
    { op: 'snp.launch_start', vm: 'a' },
    { op: 'inject', at: 'psp.launch_update', nth: 3, error: 'INVALID_PAGE_STATE' },
    { op: 'snp.launch_update', vm: 'a', hva: '0x10000', gpa: 0, len: '16KiB', type: 'normal' },
  ];
  const upstream = (options: Parameters<typeof verdictOnLast>[1] = {}) =>
    rulesOf(verdictOnLast(UPSTREAM, { ...options, abi: 'upstream' }));

  it('hold on a call that stops at a refused page', () => {
    expect(upstream()).toEqual([]);
  });

  it('fire when a populated page is not private, another page changed, a source was converted, or the digest is off', () => {
    const write = (pfn: number, change: object) => (s: ScenarioSession) =>
      s.machine.rmp.write(pfn, { ...s.machine.rmp.read(pfn), ...change });
    expect(upstream({ afterStep: write(17, { immutable: true }) })).toEqual(['upstream-done-pages-private']);
    expect(upstream({ afterStep: write(30, { assigned: true, asid: 1 }) })).toContain(
      'upstream-call-changes-only-its-pages',
    );
    expect(upstream({ afterStep: write(1, { assigned: true, asid: 1 }) })).toContain(
      'upstream-source-never-converted',
    );
    const measureMore = (s: ScenarioSession) => {
      s.machine.hostRmp.makePrivate(18, 0x2000, s.kvm.vm('a')?.asid ?? 0, true, 'kvm');
      s.machine.firmware.launchUpdate(s.kvm.vm('a')?.gctx ?? 0, { pfn: 18, pageType: 3 });
    };
    expect(upstream({ afterStep: measureMore })).toContain('measurement-matches-launched-pages');
  });

  it('hold over 200 upstream sequences, which populate pages, stop part-way and refuse first pages', () => {
    const updates: StepResult[] = [];
    for (let seed = 20_261_130; seed < 20_261_130 + 200; seed++) {
      const { session, steps } = sessionOf(generateUpstreamScenario(seed, 40, HOST_PAGES));
      const checker = new InvariantChecker(session, false);
      for (const step of steps) {
        checker.before(step);
        const result = session.run(step);
        expect(checker.after(step, result), `sequence ${seed}, step ${result.i}`).toEqual([]);
        if (result.op === 'snp.launch_update') updates.push(result);
      }
    }
    const partial = updates.filter((r) => r.ok && (r.pages ?? 0) > 0 && r.stopped !== undefined);
    expect(partial.length).toBeGreaterThan(50);
    expect(updates.filter((r) => !r.ok && r.errno === 'EIO').length).toBeGreaterThan(50);
    expect(updates.filter((r) => r.ok && r.pages === 0).length).toBeLessThan(updates.length / 2);
  });

  /** VM a's gfn 0 populated by one call; the last call populates gfn 1 and the firmware refuses gfn 2. */
  const AFTER_EARLIER_CALL = [
    ...UPSTREAM.slice(0, 6),
    { op: 'snp.launch_update', vm: 'a', hva: '0x10000', gpa: 0, len: '4KiB', type: 'normal' },
    { op: 'inject', at: 'psp.launch_update', nth: 2, error: 'INVALID_PAGE_STATE' },
    { op: 'snp.launch_update', vm: 'a', hva: '0x11000', gpa: '0x1000', len: '12KiB', type: 'normal' },
  ];
  const vmA = (s: ScenarioSession) => {
    const vm = s.kvm.vm('a');
    if (vm === undefined) throw new Error('fixture: no VM a');
    return vm;
  };
  /** A model whose give-back of the refused page also resets `pfn`. */
  const reclaimAlso = (pfn: number) => (s: ScenarioSession) => {
    const vm = vmA(s);
    const reclaim = vm.reclaimAndReset.bind(vm);
    vm.reclaimAndReset = (refused) =>
      reclaim(refused) && s.machine.hostRmp.resetToHypervisor(pfn, 'kvm') === 0;
  };

  it.each([
    ['upstream-call-changes-only-its-pages', 'gives back the page of an earlier call', reclaimAlso(16)],
    ['upstream-done-pages-private', 'gives back a page the call did', reclaimAlso(17)],
    [
      'upstream-source-never-converted',
      'makes the source page private too',
      (s: ScenarioSession) => {
        const make = s.machine.hostRmp.makePrivate.bind(s.machine.hostRmp);
        s.machine.hostRmp.makePrivate = (pfn, ...rest) => {
          if (pfn >= 16) make(pfn - 16, ...rest); // the source of guest_memfd page pfn
          return make(pfn, ...rest);
        };
      },
    ],
    [
      'measurement-matches-launched-pages',
      'copies from the next source page',
      (s: ScenarioSession) => {
        const { addressSpace } = vmA(s);
        const translate = addressSpace.translate.bind(addressSpace);
        addressSpace.translate = (hva) => translate(hva + PAGE_SIZE);
      },
    ],
  ] as const)('%s: fires on a model that %s', (rule, _, meddle) => {
    const verdict = (m?: (s: ScenarioSession) => void) =>
      rulesOf(verdictOnLast(AFTER_EARLIER_CALL, { abi: 'upstream', ...(m && { meddle: m }) }));
    expect(verdict()).toEqual([]);
    expect(verdict(meddle)).toContain(rule);
  });
});

describe('HostChanges', () => {
  it('tells exactly the pages whose RMP entry or contents a step changed, as a copy of the whole host does', () => {
    const scenarios = [1, 2, 3].flatMap((seed) => [
      generateScenario(seed, 40, { abi: 'reviewed' }),
      generateScenario(seed, 40, { abi: 'v4' }),
      generateUpstreamScenario(seed, 40, HOST_PAGES),
    ]);
    let changedPages = 0;
    for (const scenario of scenarios) {
      const { session, steps } = sessionOf(scenario);
      const { rmp, memory } = session.machine;
      const changes = new HostChanges(session.machine);
      const words = new Uint32Array(3 * rmp.hostPages);
      const contents = Buffer.alloc(rmp.hostPages * PAGE_SIZE);
      for (const step of steps) {
        for (let pfn = 0; pfn < rmp.hostPages; pfn++) {
          words.set(rmp.wordsOf(pfn), 3 * pfn);
          contents.set(memory.peek(pfn), pfn * PAGE_SIZE);
        }
        changes.start();
        session.run(step);
        const pfns = Array.from({ length: rmp.hostPages }, (_, pfn) => pfn);
        const entryChanged = pfns.filter((pfn) => rmp.wordsOf(pfn).some((w, i) => w !== words[3 * pfn + i]));
        const contentsChanged = pfns.filter(
          (pfn) =>
            contents.compare(memory.peek(pfn), 0, PAGE_SIZE, pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE) !== 0,
        );
        expect({
          entries: pfns.filter((pfn) => changes.entryChanged(pfn)),
          contents: pfns.filter((pfn) => changes.contentsChanged(pfn)),
        }).toEqual({ entries: entryChanged, contents: contentsChanged });
        expect(changes.changed()).toEqual(expect.arrayContaining([...entryChanged, ...contentsChanged]));
        changedPages += entryChanged.length + contentsChanged.length;
      }
    }
    expect(changedPages).toBeGreaterThan(1000);
  });
});
