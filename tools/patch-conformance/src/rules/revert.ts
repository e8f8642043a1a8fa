import { SyntaxKind, Node as TsNode } from 'ts-morph';
import type { Node, Tree } from 'web-tree-sitter';
import type { CModel } from '../c/cModel.js';
import { bodyOf, callsIn, declarationOf, reachableFrom, reaches } from '../ts/resolve.js';
import type { TsModel } from '../ts/tsModel.js';
import { kernelApi } from './catalogue.js';
import {
  argumentsAt,
  calleeName,
  groupedBy,
  hasRawRmpupdate,
  parameterNames,
  reachesCall,
  unparenthesized,
} from './cFacts.js';
import { perNode } from './memo.js';
import { FIRMWARE_PACKAGE, modelApi } from './modelCatalogue.js';
import { LAUNCH_UPDATE } from './onPath.js';
import { cReachable, kvmSideOf, tsEntity, tsLocation } from './reach.js';
import type { Finding, Rule } from './rule.js';

const ID = 'revert-only-touched';
const LOOPS = ['for_statement', 'while_statement', 'do_statement'];

// ---- C ----

const writesRmp = (name: string) => kernelApi('call', name)?.concern === 'rmp-write';
const launches = (name: string) => {
  const api = kernelApi('call', name);
  return api?.concern === 'firmware' || api?.write === 'private';
};

/** A loop that makes pages private or has the firmware measure them (through helpers too). */
const isForward = (c: Pick<CModel, 'functions'>, loop: Node) => reachesCall(c, loop, launches);
/** A loop that writes RMP entries without launching pages: it gives them back. */
const isRevert = (c: CModel, loop: Node) =>
  reachesCall(c, loop, writesRmp, hasRawRmpupdate) && !isForward(c, loop);

/** The variable a loop counts with (its node in the condition), and what it counts up to (undefined: down to 0). */
function counter(loop: Node): { variable: string; node: Node; upTo: Node | undefined } | undefined {
  let cond = unparenthesized(loop.childForFieldName('condition'));
  if (cond?.type === 'binary_expression') {
    const op = cond.childForFieldName('operator')?.text ?? '';
    const left = unparenthesized(cond.childForFieldName('left'));
    const right = unparenthesized(cond.childForFieldName('right'));
    if (['<', '<=', '!='].includes(op) && left?.type === 'identifier' && right?.text !== '0')
      return { variable: left.text, node: left, upTo: right };
    if (['>', '>='].includes(op) && right?.type === 'identifier' && left?.text !== '0')
      return { variable: right.text, node: right, upTo: left };
    cond = left;
  }
  if (cond?.type === 'update_expression') cond = unparenthesized(cond.childForFieldName('argument'));
  return cond?.type === 'identifier' ? { variable: cond.text, node: cond, upTo: undefined } : undefined;
}

/** The assignments and initialised declarations of plain variables under a node, by variable, in source order. */
const setsByVariable = perNode((node: Node, _tree: Tree) =>
  groupedBy(node.descendantsOfType(['assignment_expression', 'init_declarator']), (set) => {
    const target = set.childForFieldName(set.type === 'init_declarator' ? 'declarator' : 'left');
    return target?.type === 'identifier' ? target.text : undefined;
  }),
);

/** The value last assigned to `variable` in `fn` before the byte offset `at` (an assignment or a declaration). */
function valueBefore(fn: Node, at: number, variable: string): Node | undefined {
  const last = (setsByVariable(fn, fn.tree).get(variable) ?? []).filter((n) => n.startIndex < at).at(-1);
  return last?.childForFieldName(last.type === 'init_declarator' ? 'value' : 'right') ?? undefined;
}

/**
 * The collection a call adds an entry to: include/linux/list.h `list_add(new, head)` and
 * `list_add_tail(new, head)`, include/linux/xarray.h `xa_store(xa, index, entry, gfp)` and
 * `xa_insert(xa, index, entry, gfp)`.
 */
function collectionAddedTo(call: Node): Node | undefined {
  const args = call.childForFieldName('arguments')?.namedChildren ?? [];
  const name = calleeName(call);
  if (name === 'list_add' || name === 'list_add_tail') return args.at(-1) ?? undefined;
  return name === 'xa_store' || name === 'xa_insert' ? (args[0] ?? undefined) : undefined;
}

/**
 * What the loops of `fn` that launch pages count and fill: the variables they increment (`++`,
 * `+=`), a count of pages changed so far, and the collections they add entries to (`&done`),
 * which hold those pages. Asked again for each revert loop, so found once per function.
 */
const launchedIn = perNode((fn: Node, functions: CModel['functions']) => {
  const counts = new Set<string>();
  const collections = new Set<string>();
  for (const loop of fn.descendantsOfType(LOOPS)) {
    if (loop === null || !isForward({ functions }, loop)) continue;
    for (const u of loop.descendantsOfType(['update_expression', 'assignment_expression'])) {
      const target = unparenthesized(
        u?.childForFieldName(u.type === 'update_expression' ? 'argument' : 'left'),
      );
      const op = u?.childForFieldName('operator')?.text;
      if (target !== undefined && (op === '++' || op === '+=')) counts.add(target.text);
    }
    for (const call of loop.descendantsOfType('call_expression')) {
      const collection = call === null ? undefined : collectionAddedTo(call);
      if (collection !== undefined) collections.add(collection.text);
    }
  }
  return { counts, collections };
});

/**
 * Whether an expression in `fn` is the pages this call changed so far: a collection a launching
 * loop adds them to, or it names a variable that counts launches, that was last assigned such a
 * count, or a parameter that every caller in the patch hands such a count.
 */
function isChangedCount(c: CModel, fnName: string, expr: Node | undefined, depth: number): boolean {
  if (expr === undefined) return false;
  const answers = changedCountAnswers(expr, c.functions);
  const key = `${fnName} ${depth}`;
  if (!answers.has(key)) answers.set(key, changedCount(c, fnName, expr, depth));
  return answers.get(key) === true;
}

/**
 * isChangedCount()'s answers for an expression, by function and depth: it is asked again through
 * each name that leads to it (`n = a + a + a`, each `a` assigned the same way, would take
 * terms^depth otherwise).
 */
const changedCountAnswers = perNode(
  (_expr: Node, _functions: CModel['functions']) => new Map<string, boolean>(),
);

function changedCount(c: CModel, fnName: string, expr: Node, depth: number): boolean {
  const fn = c.functions.get(fnName)?.node;
  if (fn === undefined || depth > 8) return false;
  const launched = launchedIn(fn, c.functions);
  if (launched.collections.has(expr.text)) return true;
  const names = [expr, ...expr.descendantsOfType('identifier')].filter(
    (n): n is Node => n?.type === 'identifier',
  );
  return names.some((name) => {
    const v = name.text;
    if (launched.counts.has(v)) return true;
    const index = parameterNames(fn).indexOf(v);
    if (index < 0) return isChangedCount(c, fnName, valueBefore(fn, name.startIndex, v), depth + 1);
    const args = argumentsAt(c, fnName, index);
    return args.length > 0 && args.every((a) => isChangedCount(c, a.caller, a.arg, depth + 1));
  });
}

/** Whether a call writes RMP entries: a catalogued write, or a patch function that reaches one. */
function writesRmpCall(c: CModel, call: Node): boolean {
  const name = calleeName(call);
  const fn = c.functions.get(name)?.node;
  return (
    writesRmp(name) ||
    (fn !== undefined && (hasRawRmpupdate(fn) || reachesCall(c, fn, writesRmp, hasRawRmpupdate)))
  );
}

/**
 * The RMP writes of a revert loop whose arguments do not change with its counter: each pass gives
 * back the same page (a pfn left from another loop, say). A local of the loop's body assigned from
 * the counter (`u64 pfn = pfns[i];`) changes with it, and so does a variable its update assigns
 * from it (the other iterators of `list_for_each_entry_safe` or `kvm_for_each_vcpu`, as
 * src/c/treeSitterText.ts writes them).
 */
function samePageWrites(c: CModel, loop: Node, variable: string): Node[] {
  const body = loop.childForFieldName('body');
  if (body === null) return [];
  const varying = new Set([variable]);
  const named = (n: Node | null | undefined) =>
    n !== null &&
    n !== undefined &&
    [n, ...n.descendantsOfType('identifier')].some((i) => i !== null && varying.has(i.text));
  // Locals that take a value from the counter, to a fixed point (a chain of them).
  const sets = [loop.childForFieldName('update'), body].flatMap((n) =>
    n === null ? [] : n.descendantsOfType(['init_declarator', 'assignment_expression']),
  );
  for (let grew = true; grew; ) {
    grew = false;
    for (const set of sets) {
      const target = set?.childForFieldName(set.type === 'init_declarator' ? 'declarator' : 'left');
      const value = set?.childForFieldName(set.type === 'init_declarator' ? 'value' : 'right');
      if (target?.type === 'identifier' && !varying.has(target.text) && named(value)) {
        varying.add(target.text);
        grew = true;
      }
    }
  }
  return body
    .descendantsOfType('call_expression')
    .filter((call): call is Node => call !== null && writesRmpCall(c, call))
    .filter((call) => !named(call.childForFieldName('arguments')));
}

/**
 * A loop that gives RMP entries back must iterate over the pages this call changed: up to a count
 * of pages changed so far, or down from one (the `for` initializer, else the counter itself), not
 * over the whole range.
 */
function cFindings(c: CModel): Finding[] {
  const findings: Finding[] = [];
  for (const fn of cReachable(c, LAUNCH_UPDATE)) {
    for (const loop of fn.node.descendantsOfType(LOOPS)) {
      if (loop === null || !isRevert(c, loop)) continue;
      const count = counter(loop);
      const init = loop.childForFieldName('initializer');
      const bound =
        count === undefined
          ? undefined
          : (count.upTo ??
            (init === null ? undefined : valueBefore(loop, init.endIndex, count.variable)) ??
            count.node);
      if (!isChangedCount(c, fn.name, bound, 0))
        findings.push({
          rule: ID,
          message: `a loop in ${fn.name}() resets RMP entries over ${bound === undefined ? 'a range it does not count' : `"${bound.text}"`}, not over the pages this call changed: pages never reached are reset too`,
          c: c.locate(loop),
        });
      else if (count !== undefined)
        for (const call of samePageWrites(c, loop, count.variable))
          findings.push({
            rule: ID,
            message: `a loop in ${fn.name}() counts the changed pages with "${count.variable}" but gives back the same page on every pass: no argument of ${calleeName(call)}() changes with "${count.variable}", so the other pages stay assigned`,
            c: c.locate(call),
          });
    }
  }
  return findings;
}

// ---- TypeScript ----

function tsFindings(ts: TsModel, flavour: CModel['flavour']): Finding[] {
  const start = tsEntity(ts, LAUNCH_UPDATE, flavour);
  if (start === undefined) return [];
  const entity = (id: string) => tsEntity(ts, id, 'reviewed')?.node;
  const resets = entity('virt.reset_to_hypervisor');
  const rmpWrites = new Set([entity('virt.rmpupdate'), resets]);
  const inFirmware = (d: TsNode) => tsLocation(d, ts.root).file.startsWith(FIRMWARE_PACKAGE);
  const writes = (d: TsNode) => rmpWrites.has(d) || modelApi(d, ts.root)?.concern === 'rmp-write';
  // A launching loop makes pages private; else it has the firmware measure them and resets nothing
  // (a revert loop has the firmware reclaim pages, then resets them). Upstream's launching loop
  // also reclaims and resets the one page the firmware refused.
  const makesPrivate = (d: TsNode) => modelApi(d, ts.root)?.concern === 'make-private';
  const isForward = (loop: TsNode) =>
    reaches(loop, makesPrivate) || (reaches(loop, inFirmware) && !reaches(loop, (d) => d === resets));
  const reachable = reachableFrom(start.node);
  // KVM's loops: the firmware and hardware models write the RMP as the hardware does.
  const loops = reachable
    .filter(kvmSideOf(start, ts.root))
    .flatMap((fn) => [
      ...fn.getDescendantsOfKind(SyntaxKind.ForOfStatement),
      ...fn.getDescendantsOfKind(SyntaxKind.ForStatement),
    ]);

  /** Whether an iterated expression is the pages changed so far: an array pushed to in a launching loop, or a parameter handed one. */
  const isChanged = (expr: TsNode, depth: number): boolean => {
    const inner = unwrapIterable(expr);
    const declaration = TsNode.isIdentifier(inner) ? declarationOf(inner) : undefined;
    if (declaration === undefined || depth > 8) return false;
    if (TsNode.isParameterDeclaration(declaration)) {
      const fn = declaration.getParent();
      const index = fn.getChildrenOfKind(SyntaxKind.Parameter).indexOf(declaration);
      const args = reachable
        .flatMap((f) => callsIn(f))
        .filter(({ declaration: d }) => d !== undefined && bodyOf(d) === fn)
        .map(({ call }) => (TsNode.isCallExpression(call) ? call.getArguments()[index] : undefined));
      return args.length > 0 && args.every((a) => a !== undefined && isChanged(a, depth + 1));
    }
    return loops.some(
      (loop) =>
        isForward(loop) &&
        loop.getDescendantsOfKind(SyntaxKind.CallExpression).some((call) => {
          const callee = call.getExpression();
          return (
            TsNode.isPropertyAccessExpression(callee) &&
            callee.getName() === 'push' &&
            declarationOf(callee.getExpression()) === declaration
          );
        }),
    );
  };

  return loops
    .filter((loop) => reaches(loop, writes) && !isForward(loop))
    .flatMap((loop) => {
      const iterated = iteratedBy(loop);
      if (iterated.length > 0 && iterated.every((e) => isChanged(e, 0))) return [];
      const what = iterated.map((e) => `"${e.getText()}"`).join(', ') || 'what it cannot tell';
      return [
        {
          rule: ID,
          message: `a loop over ${what} resets RMP entries: it is not the pages this call changed`,
          ts: tsLocation(loop, ts.root),
        },
      ];
    });
}

/** What a loop walks: a for-of's iterable, or the arrays an index loop subscripts with its counter. */
function iteratedBy(loop: TsNode): TsNode[] {
  if (TsNode.isForOfStatement(loop)) return [loop.getExpression()];
  const init = loop.getFirstChildByKind(SyntaxKind.VariableDeclarationList)?.getDeclarations()[0];
  if (init === undefined) return [];
  return loop
    .getDescendantsOfKind(SyntaxKind.ElementAccessExpression)
    .filter((access) => {
      const index = access.getArgumentExpression();
      return index !== undefined && TsNode.isIdentifier(index) && declarationOf(index) === init;
    })
    .map((access) => access.getExpression());
}

/** `[...x].reverse()`, `x.slice()`, `x.entries()` … iterate what `x` holds. */
function unwrapIterable(expr: TsNode): TsNode {
  if (TsNode.isCallExpression(expr)) {
    const callee = expr.getExpression();
    if (TsNode.isPropertyAccessExpression(callee)) return unwrapIterable(callee.getExpression());
  }
  if (TsNode.isArrayLiteralExpression(expr)) {
    const [only] = expr.getElements();
    if (expr.getElements().length === 1 && TsNode.isSpreadElement(only))
      return unwrapIterable(only.getExpression());
  }
  if (TsNode.isParenthesizedExpression(expr)) return unwrapIterable(expr.getExpression());
  return expr;
}

export const revertOnlyTouched: Rule = {
  id: ID,
  rationale:
    'Review point 6: on failure only the RMP entries this call changed are reset, not the whole range.',
  check({ c, ts }) {
    return [...cFindings(c), ...tsFindings(ts, c.flavour)];
  },
};
