import { entryText, hex } from '../format.js';
import type { TransitionEvent } from './traceRing.js';

const HEADER = [
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
];

/**
 * The events as the kernel's trace file would print them (Documentation/trace/ftrace.rst,
 * "Output format"): one line per event, the requester as the task, a logical timestamp (the
 * sequence number in µs, since the model has no clock), then `event: fields`.
 */
export function formatFtrace(events: readonly TransitionEvent[]): string {
  const pids = new Map<string, number>();
  const lines = events.map((e) => {
    const pid = pids.get(e.by) ?? pids.size + 1;
    pids.set(e.by, pid);
    const task = `${e.by}-${pid}`.padStart(22);
    const ts = (e.seq / 1e6).toFixed(6).padStart(12);
    return `${task} [000] ..... ${ts}: ${e.kind}: pfn=${hex(e.pfn)} ret=${e.retName} old=${entryText(e.old)} new=${entryText(e.new)}`;
  });
  return `${[...HEADER, ...lines].join('\n')}\n`;
}
