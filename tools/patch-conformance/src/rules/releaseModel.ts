import { Node, SyntaxKind } from 'ts-morph';
import { bodyOf, declarationOf, reaches } from '../ts/resolve.js';
import { buildTsCfg, tsNodeCalls } from '../ts/tsCfg.js';
import type { TsEntity } from '../ts/tsModel.js';
import type { Release } from './catalogue.js';
import type { CfgNode } from './flow.js';
import { type ModelApi, modelApi } from './modelCatalogue.js';
import { mustRelease, type PinSite, unreleasedReturns } from './pinPaths.js';
import { kvmSideOf, tsLocation } from './reach.js';
import type { Finding } from './rule.js';

const unparenthesized = (node: Node): Node =>
  Node.isParenthesizedExpression(node) ? unparenthesized(node.getExpression()) : node;

/**
 * The value of a condition when it says the pin of `pinned` failed (AddressSpace.pinRange returns
 * undefined then, a helper around it a failure instead of the pages): `x === undefined`,
 * `x == null`, `!x`, `!Array.isArray(x)` are true; `x !== undefined`, `x` false.
 */
function failureValue(condition: Node | undefined, pinned: Node): boolean | undefined {
  if (condition === undefined) return undefined;
  const cond = unparenthesized(condition);
  const isPinned = (n: Node) => Node.isIdentifier(n) && declarationOf(n) === pinned;
  if (isPinned(cond)) return false;
  // The pin's result may be its pages or a failure (KvmResult): Array.isArray says which.
  if (Node.isCallExpression(cond) && cond.getExpression().getText() === 'Array.isArray') {
    const [arg] = cond.getArguments();
    return arg !== undefined && isPinned(unparenthesized(arg)) ? false : undefined;
  }
  if (Node.isPrefixUnaryExpression(cond) && cond.getOperatorToken() === SyntaxKind.ExclamationToken) {
    const inner = failureValue(cond.getOperand(), pinned);
    return inner === undefined ? undefined : !inner;
  }
  if (Node.isBinaryExpression(cond)) {
    const [left, right] = [unparenthesized(cond.getLeft()), unparenthesized(cond.getRight())];
    const nothing = (n: Node) => n.getText() === 'undefined' || n.getText() === 'null';
    if (!((isPinned(left) && nothing(right)) || (isPinned(right) && nothing(left)))) return undefined;
    const op = cond.getOperatorToken().getKind();
    if (op === SyntaxKind.EqualsEqualsEqualsToken || op === SyntaxKind.EqualsEqualsToken) return true;
    if (op === SyntaxKind.ExclamationEqualsEqualsToken || op === SyntaxKind.ExclamationEqualsToken)
      return false;
  }
  return undefined;
}

/**
 * The model's launch update, path by path as the C (pinPaths.ts): from the pin (AddressSpace.pinRange),
 * every path to a return releases the pages dirty and accessed (HostPages.releaseDirty). Calls are
 * resolved by the type checker; KVM-side helpers are summarised by their own paths.
 */
export function modelFindings(start: TsEntity, root: string): Finding[] {
  const onKvmSide = kvmSideOf(start, root);
  const apiOf = (call: Node): ModelApi | undefined => {
    const declaration = declarationOf(call);
    return declaration === undefined ? undefined : modelApi(declaration, root);
  };
  const summaries = new Map<Node, ReadonlySet<Release>>();
  const releasesAt = (node: CfgNode<Node>): Release[] =>
    tsNodeCalls(node).flatMap((call) => {
      const api = apiOf(call);
      if (api !== undefined) return [...(api.releases ?? [])];
      const declaration = declarationOf(call);
      const body = declaration === undefined ? undefined : bodyOf(declaration);
      if (body === undefined || !onKvmSide(body)) return [];
      if (!summaries.has(body)) {
        summaries.set(body, new Set()); // a recursive call counts as releasing nothing
        summaries.set(body, mustRelease(buildTsCfg(body), releasesAt));
      }
      return [...(summaries.get(body) ?? [])];
    });

  const cfg = buildTsCfg(start.node);
  const pins = cfg.nodes.flatMap((node): PinSite<Node>[] => {
    const isPin = (d: Node) => modelApi(d, root)?.concern === 'pin';
    const call = tsNodeCalls(node).find((c) => {
      const declaration = declarationOf(c);
      const body = declaration === undefined ? undefined : bodyOf(declaration);
      return apiOf(c)?.concern === 'pin' || (body !== undefined && onKvmSide(body) && reaches(body, isPin));
    });
    if (call === undefined) return [];
    const pinned = call.getFirstAncestorByKind(SyntaxKind.VariableDeclaration);
    const name = Node.isCallExpression(call) ? call.getExpression().getText() : call.getText();
    return [
      {
        node,
        what: `${name}() at line ${call.getStartLineNumber()}`,
        failed: (from, edge) =>
          from.kind === 'branch' && pinned !== undefined && failureValue(from.ast, pinned) === edge.when,
      },
    ];
  });
  return unreleasedReturns(cfg, pins, releasesAt).map(({ at, message }) => ({
    rule: 'dirty-accessed-unpin',
    message,
    ts: at.ast === undefined ? start.location : tsLocation(at.ast, root),
  }));
}
