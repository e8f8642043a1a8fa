import { describe, expect, it } from 'vitest';
import { HostRmp } from '../hostRmp.js';
import { smallHost } from '../test/fixtures.js';
import { formatFtrace } from './ftrace.js';
import { toChromeTrace } from './perfetto.js';
import { TraceRing } from './traceRing.js';

function launchTrace() {
  const host = new HostRmp(smallHost());
  const ring = new TraceRing();
  host.table.trace.subscribe(ring.sink);
  host.makePrivate(0x10, 0x5000, 1, true, 'kvm');
  host.resetToHypervisor(0x11, 'hv');
  return ring.events();
}

describe(TraceRing, () => {
  it('keeps the newest records when full and counts the dropped ones', () => {
    const host = new HostRmp(smallHost());
    const ring = new TraceRing(3);
    host.table.trace.subscribe(ring.sink);

    for (let pfn = 0; pfn < 5; pfn++) host.makePrivate(pfn, 0, 1, false, 'kvm');

    expect(ring.events().map((e) => e.pfn)).toEqual([2, 3, 4]);
    expect(ring.dropped).toBe(2);
  });
});

describe(formatFtrace, () => {
  it('prints one tracepoint line per transition under the ftrace header', () => {
    const lines = formatFtrace(launchTrace()).split('\n');

    expect(lines[0]).toBe('# tracer: nop');
    expect(lines.at(-3)).toBe(
      '                 kvm-1 [000] .....     0.000001: rmpupdate: pfn=0x10 ret=SUCCESS ' +
        'old=[A=0 PS=4K IMM=0 GPA=0x0 ASID=0 VMSA=0 V=0] new=[A=1 PS=4K IMM=1 GPA=0x5000 ASID=1 VMSA=0 V=0]',
    );
    expect(lines.at(-2)).toMatch(/^ +hv-2 \[000\] \.{5} +0\.000002: rmpupdate: pfn=0x11 ret=SUCCESS/);
  });
});

describe(toChromeTrace, () => {
  it('produces trace-event JSON with a named track per requester and one slice per transition', () => {
    const trace = JSON.parse(JSON.stringify(toChromeTrace(launchTrace())));

    expect(
      trace.traceEvents
        .filter((e: { ph: string }) => e.ph === 'M')
        .map((e: { args: { name: string } }) => e.args.name),
    ).toEqual(['RMP transitions', 'kvm', 'hv']);
    expect(trace.traceEvents[3]).toEqual({
      name: 'rmpupdate SUCCESS',
      cat: 'rmp',
      ph: 'X',
      ts: 1,
      dur: 1,
      pid: 1,
      tid: 1,
      args: {
        seq: 1,
        pfn: '0x10',
        ret: 'SUCCESS',
        old: {
          assigned: false,
          asid: 0,
          gpa: '0x0',
          pageSize: '4K',
          immutable: false,
          validated: false,
          vmsa: false,
        },
        new: {
          assigned: true,
          asid: 1,
          gpa: '0x5000',
          pageSize: '4K',
          immutable: true,
          validated: false,
          vmsa: false,
        },
      },
    });
  });
});
