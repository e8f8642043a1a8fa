import { type Node, SyntaxKind } from 'ts-morph';
import type { Node as CNode } from 'web-tree-sitter';
import type { CModel } from '../c/cModel.js';
import { declarationOf, reachableFrom } from '../ts/resolve.js';
import type { Concern } from './catalogue.js';
import { apiUses, argumentsAt, calleeName, parameterNames, reachesCall } from './cFacts.js';
import { locksHeldAt } from './memslotLocks.js';
import { type ModelApi, modelApi } from './modelCatalogue.js';
import { cReachable, kvmSideOf, tsEntity, tsLocation } from './reach.js';
import type { Finding, Rule, RuleContext } from './rule.js';

export const LAUNCH_UPDATE = 'kvm.snp_launch_update';

/** What a TS rule looks for in one function of the path: the first offending node, if any. */
type TsProbe = (fn: Node, root: string) => Node | undefined;

/** The 4 KiB level's own names: enum pg_level (arch/x86/include/asm/pgtable_types.h), RMP_PG_SIZE_4K (arch/x86/include/asm/sev.h). */
const FOUR_KIB = new Set(['PG_LEVEL_4K', 'RMP_PG_SIZE_4K']);

/**
 * A level helper called with the 4 KiB level itself (`PG_LEVEL_TO_RMP(PG_LEVEL_4K)`), or with a
 * parameter every caller in the patch hands the 4 KiB level: 4 KiB hard-coded, spelled through the
 * helper, not an indirection a caller's level flows through.
 */
function spelledOut4K(c: CModel, fn: { name: string; node: CNode }, node: CNode): boolean {
  const args =
    node.type === 'call_expression' ? node.childForFieldName('arguments')?.namedChildren : undefined;
  const fourKib = (arg: CNode | null | undefined) => {
    if (arg === null || arg === undefined) return false;
    if (FOUR_KIB.has(arg.text)) return true;
    const index = parameterNames(fn.node).indexOf(arg.text);
    const callers = index < 0 ? [] : argumentsAt(c, fn.name, index);
    return callers.length > 0 && callers.every((call) => FOUR_KIB.has(call.arg?.text ?? ''));
  };
  return args !== undefined && args.length > 0 && args.every(fourKib);
}

/**
 * A rule that forbids one concern on the launch-update path: in C, the catalogue's APIs of that
 * concern in any function the launch update reaches through the patch's call graph; in TS, what
 * `probe` finds in the functions the model's launch update reaches through resolved calls, on
 * the KVM side (its own package): the firmware and hardware models cannot see KVM's memslots
 * (README.md, "Layering") and model 2 MiB pages because the hardware has them.
 */
function forbiddenOnPath(
  id: string,
  rationale: string,
  concern: Concern,
  what: string,
  probe: TsProbe,
  detail: (c: CModel, fn: { name: string; node: CNode }, at: CNode) => string = () => '',
): Rule {
  return {
    id,
    rationale,
    check({ c, ts, root }: RuleContext): Finding[] {
      const findings: Finding[] = [];
      for (const fn of cReachable(c, LAUNCH_UPDATE)) {
        const uses = apiUses(fn.node, concern).filter((u) => !spelledOut4K(c, fn, u.node));
        // Located at a call where there is one: the lookup itself, not the declaration of its result.
        const first = uses.find((u) => u.api.form === 'call') ?? uses[0];
        if (first === undefined) continue;
        const names = [...new Set(uses.map((u) => u.label))].join(', ');
        findings.push({
          rule: id,
          message: `${what}: ${names} in C ${fn.name}()${detail(c, fn, first.node)}`,
          c: c.locate(first.node),
        });
      }
      const start = tsEntity(ts, LAUNCH_UPDATE, c.flavour);
      if (start === undefined) return findings;
      for (const fn of reachableFrom(start.node).filter(kvmSideOf(start, root))) {
        const hit = probe(fn, root);
        if (hit !== undefined)
          findings.push({
            rule: id,
            message: `${what}: "${hit.getText()}" in TS`,
            ts: tsLocation(hit, root),
          });
      }
      return findings;
    },
  };
}

/** The model API a name resolves to. */
function meaning(node: Node, root: string): ModelApi | undefined {
  const declared = declarationOf(node);
  return declared === undefined ? undefined : modelApi(declared, root);
}

const usesModel =
  (concern: ModelApi['concern']): TsProbe =>
  (fn, root) =>
    fn.getDescendantsOfKind(SyntaxKind.Identifier).find((n) => meaning(n, root)?.concern === concern);

/**
 * Under which lock the lookup runs, where it is a call: in its own function, else where the launch
 * update calls into the path (a lock the caller holds across the call). The review's worry is a
 * memslot changing under the lookup; kvm->slots_lock excludes that, kvm->srcu only delays it.
 */
function lookupLocks(c: CModel, fn: { name: string; node: CNode }, at: CNode): string {
  if (at.type !== 'call_expression') return '';
  const start = c.entities.get(LAUNCH_UPDATE);
  const intoPath =
    start === undefined || start.name === fn.name
      ? undefined
      : start.node
          .descendantsOfType('call_expression')
          .find((call) => call !== null && reachesFunction(c, call, fn.name));
  const held = new Set([
    ...locksHeldAt(fn.node, at),
    ...(intoPath ? locksHeldAt(start?.node ?? fn.node, intoPath) : []),
  ]);
  if (held.has('kvm->slots_lock'))
    return ', under kvm->slots_lock: no memslot can change while it looks (the race the review was about), but it is a lookup all the same';
  if (held.has('kvm->srcu'))
    return ', under kvm->srcu: a memslot update waits until it is done, and may change the mapping right after';
  return ', with no memslot lock held';
}

/** Whether a call of the launch update leads to `name`: it calls it, or hands it on, or calls a helper that does. */
const reachesFunction = (c: CModel, call: CNode, name: string) =>
  calleeName(call) === name || reachesCall(c, call, (callee) => callee === name);

const noMemslotSrcu = forbiddenOnPath(
  'no-memslot-srcu',
  'Review point 1: userspace gives hva and gpa; launch update does no memslot lookup and takes no kvm->srcu.',
  'memslot',
  'memslot or srcu use reachable from launch update',
  usesModel('memslot'),
  lookupLocks,
);

/** A size other than 4 KiB on the KVM side: a 2 MiB constant or page size, or PAGE_SIZE shifted by a level. */
const hugePage: TsProbe = (fn, root) =>
  usesModel('huge-page')(fn, root) ??
  fn.getDescendantsOfKind(SyntaxKind.StringLiteral).find((s) => s.getLiteralValue() === '2M') ??
  fn
    .getDescendantsOfKind(SyntaxKind.BinaryExpression)
    .find(
      (b) =>
        b.getOperatorToken().getKind() === SyntaxKind.LessThanLessThanToken &&
        meaning(b.getLeft(), root)?.concern === 'page-size',
    );

const fourKibOnly = forbiddenOnPath(
  'four-kib-only',
  'Review point 2: 4 KiB is hardcoded; no huge-page size and no page-level size/mask indirection on the path.',
  'huge-page',
  'a page size other than 4 KiB on the launch-update path',
  hugePage,
);

export const PATH_RULES: readonly Rule[] = [noMemslotSrcu, fourKibOnly];
