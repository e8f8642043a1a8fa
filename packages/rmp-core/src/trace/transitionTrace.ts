/** What changed (or tried to change) an RMP entry. */
export type TransitionKind = 'rmpupdate' | 'psmash' | 'pvalidate' | 'rmpadjust' | 'firmware';

/**
 * One RMP transition as the emitter hands it to sinks: the raw words of the entry before and
 * after (W0..W2, layout.ts) and the instruction's return code. The emitter reuses this object:
 * a sink copies what it keeps (TraceRing does) and must not hold on to it.
 */
export interface Transition {
  /** Position in this table's trace, from 1; a logical clock (the model has no wall clock). */
  seq: number;
  kind: TransitionKind;
  /** Who asked: 'kvm', 'hv', 'psp', 'guest', … */
  by: string;
  pfn: number;
  /** Return code of the instruction (or helper) for `kind`; see returnCodes.ts. */
  ret: number;
  /** The ABI's name for `ret` (SUCCESS, FAIL_INUSE, EBUSY, …). */
  retName: string;
  old0: number;
  old1: number;
  old2: number;
  new0: number;
  new1: number;
  new2: number;
}

/** Takes each transition as it happens; the object is reused, so a sink that keeps it must copy it. */
export type TransitionSink = (transition: Readonly<Transition>) => void;

/**
 * The tracepoint every RMP change goes through, in the spirit of a kernel tracepoint: emitters
 * test `active` (one branch when nobody listens) and only then gather old and new words.
 */
export class TransitionTrace {
  /** True while at least one sink is subscribed; emitters check it before doing any work. */
  active = false;
  private sinks: TransitionSink[] = [];
  private seq = 0;
  private readonly record: Transition = {
    seq: 0,
    kind: 'rmpupdate',
    by: '',
    pfn: 0,
    ret: 0,
    retName: '',
    old0: 0,
    old1: 0,
    old2: 0,
    new0: 0,
    new1: 0,
    new2: 0,
  };

  /** Adds a sink; the returned function removes it. */
  subscribe(sink: TransitionSink): () => void {
    this.sinks = [...this.sinks, sink];
    this.active = true;
    return () => {
      this.sinks = this.sinks.filter((s) => s !== sink);
      this.active = this.sinks.length > 0;
    };
  }

  /** Hands one RMP change, with the entry's words before and after, to every subscriber. */
  emit(
    kind: TransitionKind,
    by: string,
    pfn: number,
    ret: number,
    retName: string,
    old0: number,
    old1: number,
    old2: number,
    new0: number,
    new1: number,
    new2: number,
  ): void {
    const r = this.record;
    r.seq = ++this.seq;
    r.kind = kind;
    r.by = by;
    r.pfn = pfn;
    r.ret = ret;
    r.retName = retName;
    r.old0 = old0;
    r.old1 = old1;
    r.old2 = old2;
    r.new0 = new0;
    r.new1 = new1;
    r.new2 = new2;
    for (const sink of this.sinks) sink(r);
  }
}
