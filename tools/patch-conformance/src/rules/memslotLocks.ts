// Which of KVM's memslot locks a lookup runs under: kvm->srcu (a reader; memslot updates wait for
// it) or kvm->slots_lock (the mutex every memslot update takes, include/linux/kvm_host.h struct kvm),
// so a report can say whether the race review point 1 is about can happen.
import type { Node } from 'web-tree-sitter';
import { calleeName } from './cFacts.js';

/** Calls that take or drop a lock, by what they do (include/linux/mutex.h, srcu.h, cleanup.h guard()). */
const TAKES = new Set([
  'mutex_lock',
  'mutex_lock_killable',
  'mutex_lock_interruptible',
  'srcu_read_lock',
  'guard',
  'scoped_guard',
]);
const DROPS = new Set(['mutex_unlock', 'srcu_read_unlock']);

export type MemslotLock = 'kvm->slots_lock' | 'kvm->srcu';

const lockNamed = (call: Node): MemslotLock | undefined => {
  const args = call.childForFieldName('arguments')?.text ?? '';
  if (/\bslots_lock\b/.test(args)) return 'kvm->slots_lock';
  return /\bsrcu\b/.test(args) ? 'kvm->srcu' : undefined;
};

/**
 * The memslot locks held at `at` in `fn`, read in source order: a lock taken before it in the
 * function and not dropped between (a `guard()` holds to the end of the function).
 */
export function locksHeldAt(fn: Node, at: Node): MemslotLock[] {
  const held = new Map<MemslotLock, number>();
  for (const call of fn.descendantsOfType('call_expression')) {
    if (call === null || call.startIndex >= at.startIndex) break;
    const lock = lockNamed(call);
    if (lock === undefined) continue;
    const name = calleeName(call);
    if (TAKES.has(name)) held.set(lock, (held.get(lock) ?? 0) + 1);
    else if (DROPS.has(name)) held.set(lock, Math.max(0, (held.get(lock) ?? 0) - 1));
  }
  return [...held].filter(([, n]) => n > 0).map(([lock]) => lock);
}
