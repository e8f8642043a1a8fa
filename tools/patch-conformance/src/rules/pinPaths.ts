import type { Release } from './catalogue.js';
import { type Cfg, type CfgEdge, type CfgNode, mustFacts } from './flow.js';

const REQUIRED: readonly Release[] = ['dirty', 'accessed', 'unpin'];
const SAID: Readonly<Record<Release, string>> = {
  dirty: 'marked dirty',
  accessed: 'marked accessed',
  unpin: 'unpinned',
};

/** Where a function pins pages, and which branch edges mean that the pin failed. */
export interface PinSite<A> {
  readonly node: CfgNode<A>;
  /** The pin as a message names it: the function and where it is called. */
  readonly what: string;
  readonly failed: (from: CfgNode<A>, edge: CfgEdge<A>) => boolean;
}

/** A return some path from a successful pin reaches with the pages not fully released. */
export interface Unreleased<A> {
  readonly at: CfgNode<A>;
  readonly message: string;
}

/**
 * Path-sensitive, on a function's control-flow graph: from each successful pin, every path to a
 * return must mark the pages dirty and accessed and unpin them; `releases` says what a node does.
 * Loops over the pages count per iteration (flow.ts).
 */
export function unreleasedReturns<A>(
  cfg: Cfg<A>,
  pins: readonly PinSite<A>[],
  releases: (node: CfgNode<A>) => Iterable<Release>,
): Unreleased<A>[] {
  return pins.flatMap((pin) =>
    [...mustFacts(cfg, pin.node, releases, pin.failed)].flatMap(([at, held]) => {
      const missing = REQUIRED.filter((r) => !held.has(r));
      if (at.kind !== 'return' || missing.length === 0) return [];
      const without = missing.map((m) => SAID[m]).join(', ');
      return [{ at, message: `pages pinned by ${pin.what} can reach this return without being ${without}` }];
    }),
  );
}

/** What every path through a function does to pages: the releases that hold at its exit. */
export function mustRelease<A>(
  cfg: Cfg<A>,
  releases: (node: CfgNode<A>) => Iterable<Release>,
): ReadonlySet<Release> {
  return mustFacts(cfg, cfg.entry, releases).get(cfg.exit) ?? new Set();
}
