import type { RmpTable } from '../table.js';
import type { TransitionKind } from './transitionTrace.js';

/**
 * Runs `change` (which may modify the entry of `pfn`) and, while the table's trace is active,
 * emits the entry before and after with the return code and its name. Callers on hot paths test
 * `table.trace.active` first so that an untraced call allocates nothing.
 */
export function traceChange(
  table: RmpTable,
  kind: TransitionKind,
  by: string,
  pfn: number,
  change: () => number,
  retName: (ret: number) => string,
): number {
  const trace = table.trace;
  if (!trace.active) return change();
  const covered = table.has(pfn);
  const [o0, o1, o2] = covered ? table.wordsOf(pfn) : [0, 0, 0];
  const ret = change();
  const [n0, n1, n2] = covered ? table.wordsOf(pfn) : [0, 0, 0];
  trace.emit(kind, by, pfn, ret, retName(ret), o0, o1, o2, n0, n1, n2);
  return ret;
}
