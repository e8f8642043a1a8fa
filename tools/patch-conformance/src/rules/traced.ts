import type { Node as TsNode } from 'ts-morph';
import type { Node } from 'web-tree-sitter';
import { buildCfg, nodeCalls } from '../c/cfg.js';
import type { CModel } from '../c/cModel.js';
import { callsIn, reachableFrom } from '../ts/resolve.js';
import { isTracepoint, kernelApi, RMPUPDATE_ASM } from './catalogue.js';
import { calleeName, hasRawRmpupdate } from './cFacts.js';
import { type CfgNode, mustFacts } from './flow.js';
import { perObject } from './memo.js';
import { FIRMWARE_PACKAGE, modelApi } from './modelCatalogue.js';
import { cReachable, tsEntity, tsLocation } from './reach.js';
import type { Finding, Rule } from './rule.js';

const ID = 'traced-rmpupdate';
const RMPUPDATE = 'virt.rmpupdate';

/** Whether a call executes RMPUPDATE untraced: a catalogued raw writer, or a patch function with the instruction inline. */
function isRawWrite(c: CModel, call: Node): boolean {
  const name = calleeName(call);
  const fn = c.functions.get(name);
  return kernelApi('call', name)?.write === 'raw' || (fn !== undefined && hasRawRmpupdate(fn.node));
}

/** The RMPUPDATE a CFG node executes untraced: a raw call, or the instruction inline. */
const rawWriteIn = (c: CModel, node: CfgNode<Node>): Node | undefined =>
  nodeCalls(node).find((call) => isRawWrite(c, call)) ??
  node.ast?.descendantsOfType('gnu_asm_expression').find((a): a is Node => RMPUPDATE_ASM.test(a?.text ?? ''));

/** The variables an RMP read fills: its `&x` and plain identifier arguments. */
const readInto = (call: Node): string[] =>
  (call.childForFieldName('arguments')?.namedChildren ?? []).flatMap((arg) => {
    const target = arg?.type === 'pointer_expression' ? arg.childForFieldName('argument') : arg;
    return target?.type === 'identifier' ? [target.text] : [];
  });

/**
 * In the patch's rmpupdate(): every path from the raw RMPUPDATE to a return emits a tracepoint
 * given an entry read before the write and one read after it.
 */
function untracedReturns(c: CModel): Finding[] {
  const entity = c.entities.get(RMPUPDATE);
  if (entity === undefined || entity.kind !== 'function') return [];
  const cfg = buildCfg(entity.node);
  const reads = entity.node
    .descendantsOfType('call_expression')
    .filter(
      (call): call is Node => call !== null && kernelApi('call', calleeName(call))?.concern === 'rmp-read',
    );
  const findings: Finding[] = [];
  const writes = cfg.nodes.flatMap((node) => {
    const raw = rawWriteIn(c, node);
    return raw === undefined ? [] : [{ node, raw }];
  });
  if (writes.length === 0)
    findings.push({
      rule: ID,
      message:
        'rmpupdate() executes no RMPUPDATE this rule can see (the instruction, __rmpupdate(), or a helper with it inline): its trace cannot be checked',
      c: entity.location,
    });
  // The tracepoints of each node and the names they trace, once, not once per write.
  const tracepointsAt = perObject((n: CfgNode<Node>) =>
    nodeCalls(n)
      .filter((call) => isTracepoint(calleeName(call)))
      .map((call) => call.descendantsOfType('identifier').map((id) => id?.text ?? '')),
  );
  for (const { node: write, raw } of writes) {
    const before = new Set(reads.filter((r) => r.endIndex <= raw.startIndex).flatMap(readInto));
    const after = new Set(reads.filter((r) => r.startIndex >= raw.endIndex).flatMap(readInto));
    const traces = (named: readonly string[]) =>
      named.some((n) => before.has(n)) && named.some((n) => after.has(n) && !before.has(n));
    const facts = mustFacts(cfg, write, (n) => (tracepointsAt(n).some(traces) ? ['traced'] : []));
    for (const [node, held] of facts) {
      if (node.kind !== 'return' || held.has('traced')) continue;
      findings.push({
        rule: ID,
        message: `rmpupdate() can return after RMPUPDATE (line ${c.locate(raw).line}) without a trace event of the entry before and after`,
        c: node.ast === undefined ? entity.location : c.locate(node.ast),
      });
    }
  }
  return findings;
}

/** Anywhere else on the paths from the annotated entities, RMPUPDATE reached without rmpupdate(): a bypass. */
function bypasses(c: CModel): Finding[] {
  const traced = c.entities.get(RMPUPDATE)?.name;
  const functions = new Map(
    [...c.entities.keys()].flatMap((id) => cReachable(c, id)).map((fn) => [fn.name, fn]),
  );
  return [...functions.values()]
    .filter((fn) => fn.name !== traced)
    .flatMap((fn) =>
      fn.node
        .descendantsOfType('call_expression')
        .filter((call): call is Node => call !== null && isRawWrite(c, call))
        .map((call) => ({
          rule: ID,
          message: `${fn.name}() writes the RMP through ${calleeName(call)}(), bypassing the traced rmpupdate()`,
          c: c.locate(call),
        })),
    );
}

export const tracedRmpupdate: Rule = {
  id: ID,
  rationale:
    'Review point 4: every RMP change goes through rmpupdate(), which emits a trace event with the entry before and after.',
  check({ c, ts, root }) {
    const findings = [...untracedReturns(c), ...bypasses(c)];
    const method = tsEntity(ts, RMPUPDATE, c.flavour);
    const calls = (node: TsNode, concern: string) =>
      callsIn(node).filter(({ declaration: d }) => d !== undefined && modelApi(d, root)?.concern === concern);
    if (method !== undefined && calls(method.node, 'trace').length === 0) {
      findings.push({
        rule: ID,
        message: 'rmpupdate() does not go through traceChange',
        ts: method.location,
      });
    }
    // The model's KVM reaching the RMPUPDATE instruction itself, not through its rmpupdate() (nor the firmware's).
    const start = tsEntity(ts, 'kvm.snp_launch_update', c.flavour);
    const traced = (method ?? tsEntity(ts, RMPUPDATE, 'reviewed'))?.node;
    const stops = (d: TsNode) => d === traced || tsLocation(d, root).file.startsWith(FIRMWARE_PACKAGE);
    for (const fn of start === undefined ? [] : reachableFrom(start.node, stops)) {
      for (const { call } of calls(fn, 'rmp-write'))
        findings.push({
          rule: ID,
          message: `"${call.getText()}" executes RMPUPDATE without the traced rmpupdate()`,
          ts: tsLocation(call, root),
        });
    }
    return findings;
  },
};
