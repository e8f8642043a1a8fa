import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entryToWords } from '../entry.js';
import { HostRmp } from '../hostRmp.js';
import { RmpTable } from '../table.js';
import { anyEntry } from '../test/arbitraries.js';
import { entry, smallHost } from '../test/fixtures.js';
import { formatFtrace } from './ftrace.js';
import { toChromeTrace } from './perfetto.js';
import { TraceRing, type TransitionEvent } from './traceRing.js';
import { type Transition, type TransitionKind, TransitionTrace } from './transitionTrace.js';

/** What an emitter hands the trace: an event before the trace numbers it. */
type Emitted = Omit<TransitionEvent, 'seq'>;

function emit(trace: TransitionTrace, t: Emitted): void {
  trace.emit(t.kind, t.by, t.pfn, t.ret, t.retName, ...entryToWords(t.old), ...entryToWords(t.new));
}

const emitted: fc.Arbitrary<Emitted> = fc.record({
  kind: fc.constantFrom<TransitionKind>('rmpupdate', 'psmash', 'pvalidate', 'rmpadjust', 'firmware'),
  by: fc.constantFrom('kvm', 'hv', 'psp', 'guest', 'qemu'),
  pfn: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  ret: fc.integer({ min: -22, max: 255 }),
  retName: fc.constantFrom('SUCCESS', 'FAIL_INPUT', 'FAIL_INUSE', 'EBUSY', ''),
  old: anyEntry,
  new: anyEntry,
});

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

  it('gives back the newest `capacity` transitions, oldest first, each with its labels and both entries', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(emitted, { maxLength: 20 }), (capacity, ts) => {
        const trace = new TransitionTrace();
        const ring = new TraceRing(capacity);
        trace.subscribe(ring.sink);
        for (const t of ts) emit(trace, t);

        const kept = ts.slice(Math.max(0, ts.length - capacity));
        const first = ts.length - kept.length + 1;
        expect(ring.events()).toEqual(kept.map((t, k): TransitionEvent => ({ seq: first + k, ...t })));
        expect(ring.size).toBe(kept.length);
        expect(ring.dropped).toBe(ts.length - kept.length);
      }),
    );
  });

  it('keeps the labels of many transitions right: each distinct label is stored once', () => {
    const trace = new TransitionTrace();
    const ring = new TraceRing(2);
    trace.subscribe(ring.sink);
    const page = entry({ assigned: true, asid: 1, gpa: 0x5000 });

    for (let i = 0; i < 70_000; i++) {
      emit(trace, { kind: 'rmpupdate', by: 'kvm', pfn: i, ret: 0, retName: 'SUCCESS', old: page, new: page });
    }
    emit(trace, { kind: 'psmash', by: 'hv', pfn: 1, ret: 3, retName: 'FAIL_INUSE', old: page, new: page });

    expect(ring.events().map((e) => [e.kind, e.by, e.retName])).toEqual([
      ['rmpupdate', 'kvm', 'SUCCESS'],
      ['psmash', 'hv', 'FAIL_INUSE'],
    ]);
  });

  it('keeps the labels right past 65,536 distinct ones (they were 16-bit ids that wrapped)', () => {
    const trace = new TransitionTrace();
    const ring = new TraceRing(2);
    trace.subscribe(ring.sink);
    const page = entry({ assigned: true, asid: 1, gpa: 0x5000 });
    for (let i = 0; i < 70_000; i++) {
      emit(trace, {
        kind: 'rmpupdate',
        by: `vcpu-${i}`,
        pfn: i,
        ret: 0,
        retName: 'SUCCESS',
        old: page,
        new: page,
      });
    }
    expect(ring.events().map((e) => e.by)).toEqual(['vcpu-69998', 'vcpu-69999']);
  });

  it('clear() empties the ring and resets its dropped count; it records again from there', () => {
    const host = new HostRmp(smallHost());
    const ring = new TraceRing(2);
    host.table.trace.subscribe(ring.sink);
    for (let pfn = 0; pfn < 3; pfn++) host.makePrivate(pfn, 0, 1, false, 'kvm');

    ring.clear();

    expect(ring.events()).toEqual([]);
    expect(ring.size).toBe(0);
    expect(ring.dropped).toBe(0);
    host.resetToHypervisor(7, 'hv');
    expect(ring.events()).toMatchObject([{ seq: 4, pfn: 7, by: 'hv' }]);
    expect(ring.dropped).toBe(0);
  });
});

describe(TransitionTrace, () => {
  it('is inactive until a sink subscribes', () => {
    expect(new TransitionTrace().active).toBe(false);
    expect(RmpTable.create(16).trace.active).toBe(false);
  });

  it('hands every sink the whole record, and an unsubscribed sink nothing more', () => {
    const trace = new TransitionTrace();
    const first: Transition[] = [];
    const second: Transition[] = [];
    const unsubscribeFirst = trace.subscribe((t) => first.push({ ...t }));
    const unsubscribeSecond = trace.subscribe((t) => second.push({ ...t }));

    trace.emit('pvalidate', 'guest', 0x10, 6, 'FAIL_SIZEMISMATCH', 1, 2, 3, 4, 5, 6);
    unsubscribeFirst();
    trace.emit('firmware', 'psp', 0x11, 0, 'SUCCESS', 0, 0, 0, 7, 8, 9);

    const record = {
      seq: 1,
      kind: 'pvalidate',
      by: 'guest',
      pfn: 0x10,
      ret: 6,
      retName: 'FAIL_SIZEMISMATCH',
      old0: 1,
      old1: 2,
      old2: 3,
      new0: 4,
      new1: 5,
      new2: 6,
    };
    expect(first).toEqual([record]);
    expect(second).toEqual([
      record,
      {
        ...record,
        seq: 2,
        kind: 'firmware',
        by: 'psp',
        pfn: 0x11,
        ret: 0,
        retName: 'SUCCESS',
        old0: 0,
        old1: 0,
        old2: 0,
        new0: 7,
        new1: 8,
        new2: 9,
      },
    ]);
    expect(trace.active).toBe(true);
    unsubscribeSecond();
    expect(trace.active).toBe(false);
  });
});

describe(formatFtrace, () => {
  it('prints the header of the kernel trace file for the nop tracer (Documentation/trace/ftrace.rst)', () => {
    expect(formatFtrace([])).toBe(
      [
        '# tracer: nop',
        '#',
        '#                                _-----=> irqs-off/BH-disabled',
        '#                               / _----=> need-resched',
        '#                              | / _---=> hardirq/softirq',
        '#                              || / _--=> preempt-depth',
        '#                              ||| / _-=> migrate-disable',
        '#                              |||| /     delay',
        '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
        '#              | |         |   |||||     |         |',
        '',
      ].join('\n'),
    );
  });

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

  it('names the process and one thread per requester, in order of first appearance, in ns', () => {
    const host = new HostRmp(smallHost());
    const ring = new TraceRing();
    host.table.trace.subscribe(ring.sink);
    host.makePrivate(0x10, 0x5000, 1, false, 'kvm');
    host.resetToHypervisor(0x11, 'hv');
    host.makePrivate(0x12, 0x6000, 1, false, 'kvm');
    host.psmash(0x200, 'qemu');

    const trace = toChromeTrace(ring.events());

    expect(trace.displayTimeUnit).toBe('ns');
    expect(trace.traceEvents.slice(0, 4)).toEqual([
      { name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: 'RMP transitions' } },
      { name: 'thread_name', ph: 'M', pid: 1, tid: 1, args: { name: 'kvm' } },
      { name: 'thread_name', ph: 'M', pid: 1, tid: 2, args: { name: 'hv' } },
      { name: 'thread_name', ph: 'M', pid: 1, tid: 3, args: { name: 'qemu' } },
    ]);
    expect(trace.traceEvents.slice(4).map((e) => [e.name, e.ts, e.tid])).toEqual([
      ['rmpupdate SUCCESS', 1, 1],
      ['rmpupdate SUCCESS', 2, 2],
      ['rmpupdate SUCCESS', 3, 1],
      ['psmash FAIL_BADADDR', 4, 3],
    ]);
  });

  it('is only the process track for no transitions', () => {
    expect(toChromeTrace([])).toEqual({
      traceEvents: [{ name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: 'RMP transitions' } }],
      displayTimeUnit: 'ns',
    });
  });
});
