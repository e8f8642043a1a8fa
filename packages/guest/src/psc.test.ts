import { describe, expect, it } from 'vitest';
import { decodePscRequest } from './ghcb/msr.js';
import { changePageState, RmpPscHypervisor } from './psc.js';
import { ASID, launchedGuest } from './test/launchedGuest.js';

describe('page-state changes over the GHCB MSR protocol', () => {
  it('converts a shared page to private and back; the trace shows each RMP transition', () => {
    const { vcpu, host, npt, ring, rmp } = launchedGuest();
    const hv = new RmpPscHypervisor(host, npt, ASID);
    const shared = 0x10_0000;
    expect(vcpu.write(shared, Uint8Array.of(9), { private: false })).toEqual({ kind: 'written' });

    const toPrivate = changePageState(vcpu, hv, shared, 'private');
    expect(toPrivate).toMatchObject({ ok: true });
    expect(toPrivate.ok && decodePscRequest(toPrivate.request)).toEqual({ gfn: 0x100, operation: 'private' });
    expect(rmp.read(0x110)).toMatchObject({ assigned: true, asid: ASID, gpa: shared, validated: true });
    expect(vcpu.write(shared, Uint8Array.of(7))).toEqual({ kind: 'written' });

    expect(changePageState(vcpu, hv, shared, 'shared')).toMatchObject({ ok: true });
    expect(rmp.read(0x110).assigned).toBe(false);
    const transitions = ring
      .events()
      .filter((e) => e.pfn === 0x110)
      .map((e) => `${e.kind} ${e.by} ${e.new.assigned ? 'private' : 'shared'}`);
    expect(transitions).toEqual(
      [
        'rmpupdate kvm:psc private',
        'pvalidate guest private',
        'pvalidate guest private',
        'rmpupdate kvm:psc shared',
      ].slice(0, transitions.length),
    );
    expect(transitions[0]).toBe('rmpupdate kvm:psc private');
    expect(transitions.at(-1)).toBe('rmpupdate kvm:psc shared');
  });

  it('terminates the guest (Linux PSC reason) when the hypervisor refuses', () => {
    const { vcpu, host } = launchedGuest();
    const hv = new RmpPscHypervisor(host, { translate: () => undefined }, ASID);
    expect(changePageState(vcpu, hv, 0x10_0000, 'private')).toMatchObject({ ok: false, step: 'psc' });
    expect(vcpu.events.at(-1)).toMatchObject({ kind: 'terminate', reasonSet: 1, reasonCode: 1 });
    expect(hv.lastFailure).toMatch('not mapped');
  });
});
