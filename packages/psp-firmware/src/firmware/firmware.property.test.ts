import { checkInvariants } from '@snp-ref/rmp-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FwStatus } from '../status.js';
import { ASID, type Machine, machineIn, POLICY, STATES } from '../test/machine.js';

const CONTEXTS = [0x100, 0x101];
const PAGES = [0x200, 0x201, 0x100, 0x101];

/** Everything the firmware owns or changed: RMP, both contexts' status and digest, platform status. */
function firmwareView(m: Machine): string {
  const guests = CONTEXTS.map((g) => ({ status: m.fw.guestStatus(g), digest: m.fw.launchDigest(g) }));
  const view = { rmp: [...m.rmp.entries()], guests, platform: m.fw.platformStatus() };
  return JSON.stringify(view, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
}

type Step = {
  readonly firmware: boolean;
  readonly run: (m: Machine) => FwStatus | undefined;
  readonly label: string;
};

// Mostly the context machineIn() launches, so that random steps meet a guest mid-launch.
const context = fc.constantFrom(0x100, 0x100, 0x100, 0x101);
const page = fc.constantFrom(...PAGES);
const asid = fc.constantFrom(0, 1, ASID, 200);

// The host misbehaves at will (these are the injected faults): it reassigns, resets and hands pages
// to the firmware between commands, within what RMPUPDATE allows.
const hostStep: fc.Arbitrary<Step> = fc.oneof(
  fc.tuple(page, fc.constantFrom(1, ASID), fc.boolean(), fc.nat(3)).map(([pfn, a, immutable, gfn]) => ({
    firmware: false,
    label: `host makePrivate ${pfn.toString(16)} asid ${a}${immutable ? ' immutable' : ''}`,
    run: (m: Machine) => void m.host.makePrivate(pfn, gfn * 4096, a, immutable, 'kvm'),
  })),
  page.map((pfn) => ({
    firmware: false,
    label: `host firmware page ${pfn.toString(16)}`,
    run: (m: Machine) => void m.host.makePrivate(pfn, 0, 0, true, 'kvm'),
  })),
  page.map((pfn) => ({
    firmware: false,
    label: `host reset ${pfn.toString(16)}`,
    run: (m: Machine) => void m.host.resetToHypervisor(pfn, 'kvm'),
  })),
);

const firmwareStep: fc.Arbitrary<Step> = fc.oneof(
  context.map((g) => ({
    firmware: true,
    label: `GCTX_CREATE ${g}`,
    run: (m: Machine) => m.fw.gctxCreate(g),
  })),
  fc.tuple(context, fc.constantFrom(POLICY, 0n, POLICY | (1n << 40n))).map(([g, policy]) => ({
    firmware: true,
    label: `LAUNCH_START ${g} ${policy}`,
    run: (m: Machine) => m.fw.launchStart(g, { policy }),
  })),
  fc.tuple(context, asid).map(([g, a]) => ({
    firmware: true,
    label: `ACTIVATE ${g} ${a}`,
    run: (m: Machine) => m.fw.activate(g, a),
  })),
  fc.tuple(context, page, fc.integer({ min: 0, max: 7 })).map(([g, pfn, type]) => ({
    firmware: true,
    label: `LAUNCH_UPDATE ${g} ${pfn.toString(16)} type ${type}`,
    run: (m: Machine) => m.fw.launchUpdate(g, { pfn, pageType: type }),
  })),
  context.map((g) => ({
    firmware: true,
    label: `LAUNCH_FINISH ${g}`,
    run: (m: Machine) => m.fw.launchFinish(g),
  })),
  context.map((g) => ({
    firmware: true,
    label: `DECOMMISSION ${g}`,
    run: (m: Machine) => m.fw.decommission(g),
  })),
  page.map((pfn) => ({
    firmware: true,
    label: `PAGE_RECLAIM ${pfn.toString(16)}`,
    run: (m: Machine) => m.fw.pageReclaim(pfn),
  })),
  fc.constant({ firmware: true, label: 'DF_FLUSH', run: (m: Machine) => m.fw.dfFlush() }),
  context.map((g) => ({
    firmware: true,
    label: `GUEST_REQUEST ${g}`,
    run: (m: Machine) => m.fw.guestRequest(g, 0x300, 0x101),
  })),
);

describe('firmware under random command sequences and a misbehaving host', () => {
  it('never breaks an RMP invariant, only moves guests forward, and changes nothing when a command fails', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...STATES.filter((s) => s !== 'UNINIT')),
        fc.array(fc.oneof(firmwareStep, hostStep), { minLength: 10, maxLength: 40, size: 'max' }),
        (start, steps) => {
          const m = machineIn(start);
          for (const step of steps) {
            const statesBefore = CONTEXTS.map((g) => m.fw.guestStatus(g).guest?.state);
            const before = firmwareView(m);
            const status = step.run(m);
            if (step.firmware && status?.name !== 'SUCCESS') expect(firmwareView(m), step.label).toBe(before);
            expect(checkInvariants(m.rmp), step.label).toEqual([]);
            for (const [i, g] of CONTEXTS.entries()) {
              const [was, now] = [statesBefore[i], m.fw.guestStatus(g).guest?.state];
              const forward = now === undefined || was === undefined || now >= was;
              expect(forward, `${step.label}: guest ${g} went from state ${was} to ${now}`).toBe(true);
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
