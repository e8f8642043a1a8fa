// Control-flow graphs of one function, C (src/c/cfg.ts) or TypeScript (src/ts/tsCfg.ts), and the
// must-analysis the path rules run over them.

import { perObject } from './memo.js';

/**
 * A node of a function's control-flow graph. `ast` is what runs there: a simple statement, a
 * condition, a `for` clause, a return (with its value). A loop has no back edge: its body runs once
 * as "each iteration", ending at a `latch` that joins the iterations that reach the end of the
 * body; one that `continue`s skips its element on purpose (the edge is `skip`), and only counts
 * when no iteration reaches the end. Breaks leave the loop with what held when they left.
 */
export interface CfgNode<A> {
  readonly kind: 'entry' | 'stmt' | 'branch' | 'return' | 'latch' | 'join' | 'exit';
  readonly ast: A | undefined;
  readonly succ: CfgEdge<A>[];
}

/** An edge; out of a branch, `when` is the value of its condition on that edge; `skip`: a continue. */
export interface CfgEdge<A> {
  readonly to: CfgNode<A>;
  readonly when?: boolean;
  readonly skip?: boolean;
}

export interface Cfg<A> {
  readonly entry: CfgNode<A>;
  readonly exit: CfgNode<A>;
  readonly nodes: readonly CfgNode<A>[];
}

/** Where break and continue go in the statement being built. */
export interface Jumps<A> {
  readonly breakTo?: CfgNode<A>;
  readonly continueTo?: CfgNode<A>;
}

/** The parts both builders share: nodes, labels, loops, and the function around its body. */
export function cfgBuilder<A>() {
  const nodes: CfgNode<A>[] = [];
  const node = (kind: CfgNode<A>['kind'], ast?: A, succ: CfgEdge<A>[] = []): CfgNode<A> => {
    const made = { kind, ast, succ };
    nodes.push(made);
    return made;
  };
  const exit = node('exit');
  const labels = new Map<string, CfgNode<A>>();
  return {
    node,
    exit,
    /** The node a label names, made on first mention (a goto may come before its label). */
    label(name: string): CfgNode<A> {
      const known = labels.get(name) ?? node('join');
      labels.set(name, known);
      return known;
    },
    /** A loop: its condition, then the body (built by `body`, ending at the latch), then the update. */
    loop(
      condition: A | undefined,
      update: A | undefined,
      next: CfgNode<A>,
      jumps: Jumps<A>,
      body: (latch: CfgNode<A>, jumps: Jumps<A>) => CfgNode<A>,
    ): CfgNode<A> {
      const done = node('join', undefined, [{ to: next }]);
      const step = update === undefined ? done : node('stmt', update, [{ to: done }]);
      const latch = node('latch', undefined, [{ to: step }]);
      const start = body(latch, { ...jumps, breakTo: done, continueTo: latch });
      return node('branch', condition, [{ to: start, when: true }]);
    },
    /** The graph of a function whose body `body` builds, falling off its end into a return. */
    finish(body: (fallOff: CfgNode<A>) => CfgNode<A>): Cfg<A> {
      const fallOff = node('return', undefined, [{ to: exit }]);
      const entry = node('entry', undefined, [{ to: body(fallOff) }]);
      return { entry, exit, nodes };
    },
  };
}

/**
 * Facts that hold on every path from `start` (must-analysis): each node adds `gen(node)`, nodes
 * join by intersection, a latch ignores its `skip` edges unless it has no other (see CfgNode);
 * `blocked` edges are not taken. The result maps each node reached from `start` to the facts on entering it.
 */
export function mustFacts<A, F>(
  cfg: Cfg<A>,
  start: CfgNode<A>,
  gen: (node: CfgNode<A>) => Iterable<F>,
  blocked: (from: CfgNode<A>, edge: CfgEdge<A>) => boolean = () => false,
): Map<CfgNode<A>, ReadonlySet<F>> {
  const preds = new Map<CfgNode<A>, { from: CfgNode<A>; skip: boolean }[]>();
  const reached = new Set<CfgNode<A>>([start]);
  const queue = [start];
  for (let from = queue.pop(); from !== undefined; from = queue.pop()) {
    for (const edge of from.succ) {
      if (blocked(from, edge)) continue;
      const known = preds.get(edge.to) ?? [];
      preds.set(edge.to, known);
      known.push({ from, skip: edge.skip === true });
      if (!reached.has(edge.to)) {
        reached.add(edge.to);
        queue.push(edge.to);
      }
    }
  }
  // Each node's facts once, not once a pass (gen may analyse a whole helper).
  const genOf = perObject((n: CfgNode<A>) => [...gen(n)]);
  const into = new Map<CfgNode<A>, ReadonlySet<F>>();
  const out = new Map<CfgNode<A>, ReadonlySet<F>>();
  // Nodes are made successors first, so the reverse is close to a topological order; the cap
  // bounds the passes that backward gotos need.
  const order = cfg.nodes.filter((n) => reached.has(n)).reverse();
  for (let changed = true, pass = 0; changed && pass < order.length + 2; pass++) {
    changed = false;
    for (const n of order) {
      const incoming = (skip: boolean) =>
        (preds.get(n) ?? []).filter((p) => p.skip === skip).flatMap((p) => out.get(p.from) ?? []);
      const ins =
        n === start ? [new Set<F>()] : incoming(false).length > 0 ? incoming(false) : incoming(true);
      if (ins.length === 0) continue;
      const joined = new Set([...(ins[0] ?? [])].filter((f) => ins.every((s) => s.has(f))));
      const after = new Set([...joined, ...(n === start ? [] : genOf(n))]);
      const before = out.get(n);
      if (before === undefined || before.size !== after.size || [...after].some((f) => !before.has(f))) {
        into.set(n, joined);
        out.set(n, after);
        changed = true;
      }
    }
  }
  return into;
}
