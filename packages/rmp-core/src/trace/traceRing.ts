import { entryFromWords, type RmpEntry } from '../entry.js';
import type { Transition, TransitionKind, TransitionSink } from './transitionTrace.js';

/** A transition decoded for people and formatters. */
export interface TransitionEvent {
  readonly seq: number;
  readonly kind: TransitionKind;
  readonly by: string;
  readonly pfn: number;
  readonly ret: number;
  readonly retName: string;
  readonly old: RmpEntry;
  readonly new: RmpEntry;
}

/**
 * A fixed-size ring of transitions in typed arrays, like the kernel's trace ring buffer: recording
 * copies numbers and never allocates; when full, the oldest records are overwritten and counted
 * in `dropped`. Subscribe with `table.trace.subscribe(ring.sink)`.
 */
export class TraceRing {
  readonly sink: TransitionSink;
  private readonly seqs: Float64Array;
  private readonly pfns: Float64Array;
  private readonly rets: Int32Array;
  private readonly labels: Uint32Array; // kind, by, retName: indexes into `strings`
  private readonly words: Uint32Array; // old0..2, new0..2
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();
  private next = 0;
  private count = 0;
  private lost = 0;

  constructor(readonly capacity = 1 << 16) {
    this.seqs = new Float64Array(capacity);
    this.pfns = new Float64Array(capacity);
    this.rets = new Int32Array(capacity);
    this.labels = new Uint32Array(capacity * 3);
    this.words = new Uint32Array(capacity * 6);
    this.sink = (t) => this.record(t);
  }

  /** Records held (at most `capacity`). */
  get size(): number {
    return this.count;
  }

  /** Records overwritten because the ring was full. */
  get dropped(): number {
    return this.lost;
  }

  /** The held records, oldest first. */
  events(): TransitionEvent[] {
    const events: TransitionEvent[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = (this.next - this.count + k + this.capacity) % this.capacity;
      const w = this.words;
      events.push({
        seq: this.seqs[i] ?? 0,
        kind: this.label(i, 0) as TransitionKind,
        by: this.label(i, 1),
        pfn: this.pfns[i] ?? 0,
        ret: this.rets[i] ?? 0,
        retName: this.label(i, 2),
        old: entryFromWords(w[6 * i] ?? 0, w[6 * i + 1] ?? 0, w[6 * i + 2] ?? 0),
        new: entryFromWords(w[6 * i + 3] ?? 0, w[6 * i + 4] ?? 0, w[6 * i + 5] ?? 0),
      });
    }
    return events;
  }

  /** Forgets every recorded transition and the count of lost ones. */
  clear(): void {
    this.next = 0;
    this.count = 0;
    this.lost = 0;
  }

  private record(t: Readonly<Transition>): void {
    const i = this.next;
    this.seqs[i] = t.seq;
    this.pfns[i] = t.pfn;
    this.rets[i] = t.ret;
    this.labels[3 * i] = this.intern(t.kind);
    this.labels[3 * i + 1] = this.intern(t.by);
    this.labels[3 * i + 2] = this.intern(t.retName);
    const w = this.words;
    w[6 * i] = t.old0;
    w[6 * i + 1] = t.old1;
    w[6 * i + 2] = t.old2;
    w[6 * i + 3] = t.new0;
    w[6 * i + 4] = t.new1;
    w[6 * i + 5] = t.new2;
    this.next = i + 1 === this.capacity ? 0 : i + 1;
    if (this.count < this.capacity) this.count++;
    else this.lost++;
  }

  private intern(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  private label(i: number, which: 0 | 1 | 2): string {
    return this.strings[this.labels[3 * i + which] ?? 0] ?? '';
  }
}
