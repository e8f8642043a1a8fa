import type { CModel } from '../c/cModel.js';
import type { Location } from '../input.js';
import type { TsModel } from '../ts/tsModel.js';

/** One violation, located on both sides where it has a counterpart. */
export interface Finding {
  readonly rule: string;
  readonly message: string;
  readonly c?: Location;
  readonly ts?: Location;
  /** The input's line at `c`, to quote. */
  readonly quote?: string;
}

export interface RuleContext {
  readonly c: CModel;
  readonly ts: TsModel;
  /** The repository root TS locations are relative to. */
  readonly root: string;
}

/** A static conformance rule: an id, why it exists (the review point), and its check. */
export interface Rule {
  readonly id: string;
  readonly rationale: string;
  check(context: RuleContext): Finding[];
  /** What the reader should know but is no violation (e.g. fields matched by offset though named otherwise). */
  notes?(context: RuleContext): string[];
}
