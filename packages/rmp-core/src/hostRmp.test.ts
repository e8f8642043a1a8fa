import { describe, expect, it } from 'vitest';
import { HYPERVISOR_OWNED } from './entry.js';
import { HostRmp, hostRmpUpdateErrno, hostRmpUpdateRetName, RMPUPDATE_REFUSED_ASSIGNED } from './hostRmp.js';
import { PsmashRet, RmpUpdateRet } from './returnCodes.js';
import { entry, smallHost, snapshot } from './test/fixtures.js';
import { TraceRing } from './trace/traceRing.js';
import type { Transition } from './trace/transitionTrace.js';

function tracedHost(options = {}) {
  const host = new HostRmp(smallHost(), options);
  const ring = new TraceRing(16);
  host.table.trace.subscribe(ring.sink);
  return { host, ring };
}

describe(HostRmp, () => {
  it('traces every rmpupdate() with the entry before and after, the return code and who asked', () => {
    const { host, ring } = tracedHost();

    host.makePrivate(0x10, 0x5000, 1, true, 'kvm');
    host.resetToHypervisor(0x10, 'kvm');

    const [make, reset] = ring.events();
    const launched = entry({ assigned: true, asid: 1, gpa: 0x5000, immutable: true });
    expect(make).toEqual({
      seq: 1,
      kind: 'rmpupdate',
      by: 'kvm',
      pfn: 0x10,
      ret: 0,
      retName: 'SUCCESS',
      old: HYPERVISOR_OWNED,
      new: launched,
    });
    expect(reset).toMatchObject({
      seq: 2,
      ret: RmpUpdateRet.FAIL_PERMISSION,
      retName: 'FAIL_PERMISSION',
      old: launched,
      new: launched,
    });
  });

  it('traces nothing once the sink unsubscribes', () => {
    const host = new HostRmp(smallHost());
    const ring = new TraceRing(4);
    const unsubscribe = host.table.trace.subscribe(ring.sink);

    unsubscribe();
    host.makePrivate(0x10, 0, 1, false, 'kvm');

    expect(ring.size).toBe(0);
    expect(host.table.trace.active).toBe(false);
  });

  it('lets the hypervisor reassign an assigned page by default', () => {
    const host = new HostRmp(smallHost());
    host.makePrivate(0x10, 0x5000, 1, false, 'kvm');

    expect(host.makePrivate(0x10, 0x5000, 2, false, 'kvm')).toBe(RmpUpdateRet.SUCCESS);
  });

  it('with rejectAssignedOnUpdate, refuses to reassign an assigned page with EBUSY and changes nothing', () => {
    const { host, ring } = tracedHost({ rejectAssignedOnUpdate: true });
    host.makePrivate(0x10, 0x5000, 1, false, 'kvm');
    const before = snapshot(host.table);

    const ret = host.makePrivate(0x10, 0x5000, 2, false, 'kvm');

    expect(ret).toBe(RMPUPDATE_REFUSED_ASSIGNED);
    expect(hostRmpUpdateErrno(ret)).toBe('EBUSY');
    expect(snapshot(host.table)).toEqual(before);
    expect(ring.events()[1]).toMatchObject({ retName: 'EBUSY' });
  });

  it('with rejectAssignedOnUpdate, refuses a 2M assignment over any assigned page, but never a reset', () => {
    const host = new HostRmp(smallHost(), { rejectAssignedOnUpdate: true });
    host.makePrivate(0x3ff, 0x1000, 1, false, 'kvm');

    expect(host.makePrivate(0x200, 0, 1, false, 'kvm', '2M')).toBe(RMPUPDATE_REFUSED_ASSIGNED);
    expect(host.resetToHypervisor(0x3ff, 'kvm')).toBe(RmpUpdateRet.SUCCESS);
  });

  it('maps a failed RMPUPDATE to EFAULT, as the kernel does', () => {
    expect(hostRmpUpdateErrno(RmpUpdateRet.FAIL_OVERLAP)).toBe('EFAULT');
    expect(hostRmpUpdateErrno(RmpUpdateRet.SUCCESS)).toBeUndefined();
  });

  it('traces psmash()', () => {
    const { host, ring } = tracedHost();
    host.makePrivate(0x200, 0, 1, false, 'kvm', '2M');

    host.psmash(0x200, 'kvm');

    expect(ring.events()[1]).toMatchObject({ kind: 'psmash', retName: 'SUCCESS', new: { pageSize: '4K' } });
  });

  it('fails an RMPUPDATE with an injected code, leaving the entry as it was and tracing the attempt', () => {
    const { host, ring } = tracedHost();
    host.fault = (pfn) => (pfn === 0x11 ? RmpUpdateRet.FAIL_INUSE : undefined);

    expect(host.makePrivate(0x10, 0, 1, false, 'kvm')).toBe(RmpUpdateRet.SUCCESS);
    expect(host.makePrivate(0x11, 0, 1, false, 'kvm')).toBe(RmpUpdateRet.FAIL_INUSE);

    expect(host.table.read(0x11).assigned).toBe(false);
    expect(ring.events()[1]).toMatchObject({ pfn: 0x11, retName: 'FAIL_INUSE', new: { assigned: false } });
  });

  it('returns -EBUSY (-16) from the sanity check, as the kernel does', () => {
    expect(RMPUPDATE_REFUSED_ASSIGNED).toBe(-16);
    expect(hostRmpUpdateRetName(-16)).toBe('EBUSY');
    expect(hostRmpUpdateRetName(RmpUpdateRet.FAIL_OVERLAP)).toBe('FAIL_OVERLAP');
  });

  it('runs the RMPUPDATE when the injected fault says SUCCESS or nothing', () => {
    const host = new HostRmp(smallHost());
    host.fault = (pfn) => (pfn === 0x10 ? RmpUpdateRet.SUCCESS : undefined);

    expect(host.makePrivate(0x10, 0x5000, 1, false, 'kvm')).toBe(RmpUpdateRet.SUCCESS);
    expect(host.makePrivate(0x11, 0x6000, 1, false, 'kvm')).toBe(RmpUpdateRet.SUCCESS);
    expect(snapshot(host.table).map(([pfn, e]) => [pfn, e.assigned])).toEqual([
      [0x10, true],
      [0x11, true],
    ]);
  });

  it('injects a fault untraced too, and passes it the pfn and the state', () => {
    const host = new HostRmp(smallHost());
    const seen: unknown[] = [];
    host.fault = (pfn, state) => {
      seen.push([pfn, state]);
      return RmpUpdateRet.FAIL_INUSE;
    };

    expect(host.resetToHypervisor(0x200, 'kvm', '2M')).toBe(RmpUpdateRet.FAIL_INUSE);
    expect(seen).toEqual([[0x200, { gpa: 0, assigned: false, pageSize: '2M', immutable: false, asid: 0 }]]);
  });

  it('with rejectAssignedOnUpdate, only looks at the pages the update covers', () => {
    const host = new HostRmp(smallHost(), { rejectAssignedOnUpdate: true });
    host.makePrivate(0x11, 0x6000, 1, false, 'kvm');
    host.makePrivate(0x400, 0x7000, 1, false, 'kvm'); // first page of the next 2M region

    expect(host.makePrivate(0x10, 0x5000, 1, false, 'kvm')).toBe(RmpUpdateRet.SUCCESS);
    expect(host.makePrivate(0x200, 0x20_0000, 1, false, 'kvm', '2M')).toBe(RmpUpdateRet.SUCCESS);
  });

  it('with rejectAssignedOnUpdate, leaves a pfn the RMP does not cover to the instruction: FAIL_INPUT', () => {
    const host = new HostRmp(smallHost(), { rejectAssignedOnUpdate: true });
    host.makePrivate(1, 0x1000, 1, false, 'kvm');
    host.makePrivate(0xfff, 0x2000, 1, false, 'kvm');

    expect(host.makePrivate(4096, 0, 1, false, 'kvm')).toBe(RmpUpdateRet.FAIL_INPUT);
    expect(host.makePrivate(1.5, 0, 1, false, 'kvm')).toBe(RmpUpdateRet.FAIL_INPUT);
    expect(host.makePrivate(-1, 0, 1, false, 'kvm')).toBe(RmpUpdateRet.FAIL_INPUT);
  });

  it('traces an RMPUPDATE of a pfn the RMP does not cover with all-zero entry words', () => {
    const host = new HostRmp(smallHost());
    const seen: Transition[] = [];
    host.table.trace.subscribe((t) => seen.push({ ...t }));

    host.makePrivate(4096, 0, 1, false, 'kvm');

    expect(seen).toEqual([
      {
        seq: 1,
        kind: 'rmpupdate',
        by: 'kvm',
        pfn: 4096,
        ret: RmpUpdateRet.FAIL_INPUT,
        retName: 'FAIL_INPUT',
        old0: 0,
        old1: 0,
        old2: 0,
        new0: 0,
        new1: 0,
        new2: 0,
      },
    ]);
  });

  it('numbers traced transitions from 1, whatever ran before anyone listened', () => {
    const host = new HostRmp(smallHost());
    host.makePrivate(0x200, 0, 1, false, 'kvm', '2M');
    expect(host.psmash(0x200, 'kvm')).toBe(PsmashRet.SUCCESS);
    const ring = new TraceRing(4);
    host.table.trace.subscribe(ring.sink);

    host.psmash(0x200, 'kvm');

    expect(ring.events()).toMatchObject([{ seq: 1, kind: 'psmash', ret: PsmashRet.FAIL_BADADDR }]);
  });
});
