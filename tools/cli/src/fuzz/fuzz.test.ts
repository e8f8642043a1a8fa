import { TraceRing } from '@snp-ref/rmp-core';
import { describe, expect, it } from 'vitest';
import { ScenarioSession } from '../scenario/run.js';
import { parseScenario, type Step } from '../scenario/schema.js';
import { checkScenario, runCampaign } from './campaign.js';
import { generateScenario } from './generate.js';
import { InvariantChecker } from './invariants.js';

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
    expect(failure?.violation.rule).toBe('failed-update-changes-only-touched');
    expect(failure?.scenario.steps.length).toBeLessThanOrEqual(8);
    const replayed = failure && checkScenario(failure.scenario, true);
    expect(replayed && 'violation' in replayed && replayed.violation.rule).toBe(
      'failed-update-changes-only-touched',
    );
  });

  it('partitions a campaign into shards and replays a seed', () => {
    const whole = runCampaign({ runs: 12, seed: 5, steps: 20 });
    const shards = [0, 1, 2].map((index) =>
      runCampaign({ runs: 12, seed: 5, steps: 20, shard: { index, count: 3 } }),
    );
    expect(shards.reduce((n, s) => n + s.sequences, 0)).toBe(whole.sequences);
    expect(shards.reduce((n, s) => n + s.steps, 0)).toBe(whole.steps);
    expect(generateScenario(42, 30)).toEqual(generateScenario(42, 30));
  });
});

describe('each invariant fires when the model breaks it', () => {
  const scenario = parseScenario({
    scenario: 1,
    host: { pages: 64 },
    kvm: { rejectAssignedOnUpdate: true },
    steps: [
      { op: 'vm.create', vm: 'a' },
      { op: 'vm.create', vm: 'b' },
      { op: 'mmap', vm: 'a', hva: '0x10000', pfn: 0, pages: 4, fill: { seed: 'x' } },
      { op: 'snp.launch_start', vm: 'a' },
      { op: 'snp.launch_update', vm: 'a', hva: '0x10000', gpa: 0, len: '8KiB', type: 'normal' },
      { op: 'rmp.query', pfn: 0 },
    ],
  });
  if (!scenario.ok) throw new Error('fixture');
  /** Runs the fixture, breaks the model with `breakIt` before the last step, and returns what the checker says. */
  const violationsAfter = (breakIt: (session: ScenarioSession) => void) => {
    const session = new ScenarioSession(scenario.scenario, new TraceRing(64));
    const checker = new InvariantChecker(session, true);
    const steps = scenario.scenario.steps;
    for (const step of steps.slice(0, -1)) {
      checker.before(step);
      expect(checker.after(step, session.run(step))).toEqual([]);
    }
    const last = steps.at(-1) as Step;
    breakIt(session);
    checker.before(last);
    return checker.after(last, session.run(last)).map((v) => v.rule);
  };

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
  ] as const)('%s', (rule, breakIt) => {
    expect(violationsAfter(breakIt)).toContain(rule);
  });
});

describe('the guest instruction invariants', () => {
  /** A launched, validated page at gpa 0, then `last`; `meddle` runs between the prediction and the step. */
  const rulesAfter = (
    last: Record<string, unknown>,
    meddle: (s: ScenarioSession) => void,
    afterStep: (s: ScenarioSession) => void = () => {},
  ) => {
    const parsed = parseScenario({
      scenario: 1,
      host: { pages: 64 },
      steps: [
        { op: 'vm.create', vm: 'a' },
        { op: 'mmap', vm: 'a', hva: '0x10000', pfn: 0, pages: 1, fill: 'zero' },
        { op: 'snp.launch_start', vm: 'a' },
        { op: 'snp.launch_update', vm: 'a', hva: '0x10000', gpa: 0, len: '4KiB', type: 'normal' },
        last,
      ],
    });
    if (!parsed.ok) throw new Error('fixture');
    const session = new ScenarioSession(parsed.scenario, new TraceRing(64));
    const checker = new InvariantChecker(session, false);
    const steps = parsed.scenario.steps;
    for (const step of steps.slice(0, -1)) {
      checker.before(step);
      checker.after(step, session.run(step));
    }
    const step = steps.at(-1) as Step;
    checker.before(step);
    meddle(session);
    const result = session.run(step);
    afterStep(session);
    return checker.after(step, result).map((v) => v.rule);
  };
  const unvalidate = (s: ScenarioSession) =>
    s.machine.rmp.write(0, { ...s.machine.rmp.read(0), validated: false });

  it('fires when a fault is not the one the access-check table predicts', () => {
    const read = { op: 'guest.read', vm: 'a', gpa: 0, len: 16 };
    expect(rulesAfter(read, () => {})).toEqual([]);
    expect(rulesAfter(read, unvalidate)).toContain('guest-fault-as-predicted'); // predicted OK, got #VC
  });

  it('fires when PVALIDATE returns other than predicted, or leaves the RMP other than predicted', () => {
    const pvalidate = { op: 'guest.pvalidate', vm: 'a', gpa: 0, validate: true };
    expect(rulesAfter(pvalidate, () => {})).toEqual([]); // FAIL_NOUPDATE, as predicted
    expect(rulesAfter(pvalidate, unvalidate)).toContain('pvalidate-as-predicted'); // got SUCCESS
    const rescind = { ...pvalidate, validate: false };
    expect(rulesAfter(rescind, () => {})).toEqual([]);
    expect(
      rulesAfter(
        rescind,
        () => {},
        (s) => s.machine.rmp.write(0, { ...s.machine.rmp.read(0), validated: true }),
      ),
    ).toContain('pvalidate-as-predicted');
  });
});
