import type { Node, Tree } from 'web-tree-sitter';
import { type CModel, cCallbacks, cCalls, functionDeclarator } from '../c/cModel.js';
import { isTracepoint, type KernelApi, kernelApi, RMPUPDATE_ASM } from './catalogue.js';
import { perNode, perObject } from './memo.js';
import { cReachable } from './reach.js';

/** The callee's name of a call_expression (`f(...)` → f). */
export const calleeName = (call: Node): string => call.childForFieldName('function')?.text ?? '';

/** An expression without its parentheses. */
export const unparenthesized = (node: Node | null | undefined): Node | undefined =>
  node === null || node === undefined
    ? undefined
    : node.type === 'parenthesized_expression'
      ? unparenthesized(node.namedChildren[0])
      : node;

/** The names of a C function's parameters, in order. */
export const parameterNames = (fn: Node): string[] =>
  (functionDeclarator(fn)?.childForFieldName('parameters')?.namedChildren ?? []).map((p) => {
    let d = p?.childForFieldName('declarator');
    while (d !== null && d !== undefined && d.type !== 'identifier') d = d.childForFieldName('declarator');
    return d?.text ?? '';
  });

/** Items by a key, in order; those without one left out. */
export function groupedBy<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const known = groups.get(k);
    if (known === undefined) groups.set(k, [item]);
    else known.push(item);
  }
  return groups;
}

/** Every call the patch's C makes, with the caller's name, by callee name. */
const callSites = perObject((functions: CModel['functions']) =>
  groupedBy(
    [...functions].flatMap(([caller, { node }]) =>
      node.descendantsOfType('call_expression').map((call) => ({ caller, call })),
    ),
    ({ call }) => calleeName(call),
  ),
);

/** The argument at `index` of every call the patch's C makes to `fnName`, with the caller's name. */
export function argumentsAt(
  c: CModel,
  fnName: string,
  index: number,
): { caller: string; arg: Node | undefined }[] {
  return (callSites(c.functions).get(fnName) ?? []).map(({ caller, call }) => ({
    caller,
    arg: call.childForFieldName('arguments')?.namedChildren[index] ?? undefined,
  }));
}

/** A use of a catalogued kernel API in C: the node and how to name it in a message. */
export interface ApiUse {
  readonly api: KernelApi;
  readonly node: Node;
  readonly label: string;
}

const FORM_OF_NODE: Readonly<Record<string, KernelApi['form'] | undefined>> = {
  identifier: 'macro',
  field_identifier: 'field',
  type_identifier: 'type',
};

/** The catalogue APIs of `concern` a C node mentions: calls, macro constants, struct members and types. */
export function apiUses(node: Node, concern: KernelApi['concern']): ApiUse[] {
  const uses: ApiUse[] = [];
  for (const n of node.descendantsOfType([
    'call_expression',
    'identifier',
    'field_identifier',
    'type_identifier',
  ])) {
    if (n === null) continue;
    const called = n.type === 'call_expression';
    const form = called ? 'call' : FORM_OF_NODE[n.type];
    const name = called ? calleeName(n) : n.text;
    // A call to a function-like macro is found as a call; its name as an identifier is that same use.
    const isCalleeName =
      n.parent?.type === 'call_expression' && n.parent.childForFieldName('function')?.id === n.id;
    const api = form === undefined || isCalleeName ? undefined : kernelApi(form, name);
    if (api?.concern !== concern) continue;
    const label = { call: `${name}()`, macro: name, field: `->${name}`, type: `struct ${name}` }[api.form];
    uses.push({ api, node: n, label });
  }
  return uses;
}

/** Whether a patch function contains the RMPUPDATE instruction in inline assembly. */
const rawRmpupdateIn = perNode((fn: Node, _tree: Tree) =>
  fn.descendantsOfType('gnu_asm_expression').some((asm) => RMPUPDATE_ASM.test(asm?.text ?? '')),
);
export const hasRawRmpupdate = (fn: Node): boolean => rawRmpupdateIn(fn, fn.tree);

/**
 * Whether the code under `node` reaches, directly or through functions the patch defines (called
 * or handed on as callbacks), a call whose name satisfies `wanted` (the catalogue, or a patch
 * function with `inPatch`).
 */
export function reachesCall(
  c: Pick<CModel, 'functions'>,
  node: Node,
  wanted: (name: string) => boolean,
  inPatch: (fn: Node) => boolean = () => false,
): boolean {
  const seen = new Set<string>();
  const queue = [node];
  for (let n = queue.pop(); n !== undefined; n = queue.pop()) {
    for (const name of [...cCalls(n), ...cCallbacks(n, c.functions)]) {
      if (wanted(name)) return true;
      const fn = c.functions.get(name);
      if (fn === undefined || seen.has(name)) continue;
      seen.add(name);
      if (inPatch(fn.node)) return true;
      queue.push(fn.node);
    }
  }
  return false;
}

/** Calls the patch makes into code it does not define and the catalogue does not describe. */
export function notAnalysedCalls(c: CModel): string[] {
  const names = new Set<string>();
  for (const id of c.entities.keys()) {
    for (const fn of cReachable(c, id)) {
      for (const name of cCalls(fn.node)) {
        if (!c.functions.has(name) && kernelApi('call', name) === undefined && !isTracepoint(name))
          names.add(name);
      }
    }
  }
  return [...names].sort();
}
