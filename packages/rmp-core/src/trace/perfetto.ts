import { entryJson, hex } from '../format.js';
import type { TransitionEvent } from './traceRing.js';

/** Chrome trace-event format (the JSON ui.perfetto.dev and chrome://tracing open). */
export interface ChromeTrace {
  readonly traceEvents: readonly ChromeTraceEvent[];
  readonly displayTimeUnit: 'ms' | 'ns';
}

/**
 * One event of a Chrome trace: a complete event ('X') with its start and duration, or a metadata event ('M').
 */
export interface ChromeTraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'M';
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly cat?: string;
  readonly args: Readonly<Record<string, unknown>>;
}

const PID = 1;

/**
 * The events as a Chrome/Perfetto trace ("Trace Event Format", complete events `ph: "X"` and
 * metadata `ph: "M"`): one track per requester, one 1 µs slice per transition at its sequence
 * number, named `kind ret` with the pfn and both entries as arguments.
 */
export function toChromeTrace(events: readonly TransitionEvent[]): ChromeTrace {
  const tids = new Map<string, number>();
  for (const e of events) if (!tids.has(e.by)) tids.set(e.by, tids.size + 1);
  const metadata: ChromeTraceEvent[] = [
    { name: 'process_name', ph: 'M', pid: PID, tid: 0, args: { name: 'RMP transitions' } },
    ...[...tids].map(
      ([by, tid]): ChromeTraceEvent => ({ name: 'thread_name', ph: 'M', pid: PID, tid, args: { name: by } }),
    ),
  ];
  const slices = events.map(
    (e): ChromeTraceEvent => ({
      name: `${e.kind} ${e.retName}`,
      cat: 'rmp',
      ph: 'X',
      ts: e.seq,
      dur: 1,
      pid: PID,
      tid: tids.get(e.by) ?? 0,
      args: { seq: e.seq, pfn: hex(e.pfn), ret: e.retName, old: entryJson(e.old), new: entryJson(e.new) },
    }),
  );
  return { traceEvents: [...metadata, ...slices], displayTimeUnit: 'ns' };
}
