import type { Node } from 'web-tree-sitter';
import { buildCfg, nodeCalls } from '../c/cfg.js';
import type { CModel } from '../c/cModel.js';
import { kernelApi, type Release } from './catalogue.js';
import { calleeName, reachesCall, unparenthesized } from './cFacts.js';
import type { CfgNode } from './flow.js';
import { perObject } from './memo.js';
import { LAUNCH_UPDATE } from './onPath.js';
import { mustRelease, type PinSite, unreleasedReturns } from './pinPaths.js';
import { tsEntity } from './reach.js';
import { modelFindings } from './releaseModel.js';
import type { Finding, Rule } from './rule.js';

const ID = 'dirty-accessed-unpin';

/** What every path through a patch function does to pages (its must-releases), by name; cycles count as nothing. */
function helperReleases(c: CModel, name: string, visiting: ReadonlySet<string>): ReadonlySet<Release> {
  const fn = c.functions.get(name);
  if (fn === undefined || visiting.has(name)) return new Set();
  // Once per helper and call chain, not once per call of it.
  const known = helperSummaries(c.functions);
  const key = [...visiting, name].join(' ');
  const releases =
    known.get(key) ?? mustRelease(buildCfg(fn.node), (n) => releasesAt(c, n, new Set([...visiting, name])));
  known.set(key, releases);
  return releases;
}

const helperSummaries = perObject(
  (_functions: CModel['functions']) => new Map<string, ReadonlySet<Release>>(),
);

/** The releases the calls of one CFG node make: the catalogue's, or a patch helper's. */
function releasesAt(c: CModel, node: CfgNode<Node>, visiting: ReadonlySet<string>): Release[] {
  return nodeCalls(node).flatMap((call) => {
    const name = calleeName(call);
    return [...(kernelApi('call', name)?.releases ?? helperReleases(c, name, visiting))];
  });
}

const isPin = (name: string) => kernelApi('call', name)?.concern === 'pin';

/** The call of a CFG node that pins: a catalogued pin, or a patch function that reaches one. */
const pinsAt = (c: CModel, node: CfgNode<Node>): Node | undefined =>
  nodeCalls(node).find((call) => {
    const name = calleeName(call);
    const fn = c.functions.get(name);
    return isPin(name) || (fn !== undefined && reachesCall(c, fn.node, isPin));
  });

/** The variable a pin's result goes to: `v = pin(...)` or `T *v = pin(...)`. */
function pinnedVariable(statement: Node | undefined): string | undefined {
  const assignment = statement?.descendantsOfType(['assignment_expression', 'init_declarator'])[0];
  let target = assignment?.childForFieldName(assignment.type === 'init_declarator' ? 'declarator' : 'left');
  while (target !== null && target !== undefined && target.type !== 'identifier')
    target = target.childForFieldName('declarator');
  return target?.text;
}

/**
 * The value of a condition when it says that the pin of `v` failed: `IS_ERR(v)`, `!v`, `v == NULL`,
 * `v < 0`, `v != n` (fewer pages pinned) are true then; `v`, `!IS_ERR(v)` false. Undefined: not a test of `v`.
 * (sev_pin_memory() returns ERR_PTR on failure, include/linux/err.h; pin_user_pages_fast() the
 * number pinned or -errno, mm/gup.c.)
 */
function failureValue(condition: Node | null | undefined, v: string): boolean | undefined {
  const cond = unparenthesized(condition);
  if (cond === undefined) return undefined;
  if (cond.type === 'identifier') return cond.text === v ? false : undefined;
  if (cond.type === 'call_expression' && /^IS_ERR(_OR_NULL)?$/.test(calleeName(cond)))
    return cond.childForFieldName('arguments')?.namedChildren[0]?.text === v ? true : undefined;
  if (cond.type === 'unary_expression' && cond.childForFieldName('operator')?.text === '!') {
    const inner = failureValue(cond.childForFieldName('argument'), v);
    return inner === undefined ? undefined : !inner;
  }
  if (cond.type === 'binary_expression' && unparenthesized(cond.childForFieldName('left'))?.text === v) {
    const op = cond.childForFieldName('operator')?.text;
    const right = cond.childForFieldName('right')?.text ?? '';
    const nothing = right === 'NULL' || right === '0';
    if (op === '==' && nothing) return true;
    if (op === '!=' && nothing) return false;
    if (op === '<' || op === '!=') return true;
  }
  return undefined;
}

/** The launch update's returns that a successful pin reaches with pages not released (pinPaths.ts). */
function cFindings(c: CModel): Finding[] {
  const entity = c.entities.get(LAUNCH_UPDATE);
  if (entity === undefined || entity.kind !== 'function') return [];
  const cfg = buildCfg(entity.node);
  // Each node's releases once, not once per pin.
  const releases = perObject((n: CfgNode<Node>) => releasesAt(c, n, new Set()));
  const pins = cfg.nodes.flatMap((node): PinSite<Node>[] => {
    const call = pinsAt(c, node);
    if (call === undefined) return [];
    const v = pinnedVariable(node.ast);
    return [
      {
        node,
        what: `${calleeName(call)}() at line ${c.locate(call).line}`,
        failed: (from, edge) =>
          from.kind === 'branch' && v !== undefined && failureValue(from.ast, v) === edge.when,
      },
    ];
  });
  return unreleasedReturns(cfg, pins, releases).map(({ at, message }) => ({
    rule: ID,
    message,
    c: at.ast === undefined ? entity.location : c.locate(at.ast),
  }));
}

export const dirtyAccessedUnpin: Rule = {
  id: ID,
  rationale:
    'Review point 6: every pinned page is marked dirty and accessed, then unpinned, on every path from the pin to a return.',
  check({ c, ts, root }) {
    const start = tsEntity(ts, LAUNCH_UPDATE, c.flavour);
    return [...cFindings(c), ...(start === undefined ? [] : modelFindings(start, root))];
  },
};
