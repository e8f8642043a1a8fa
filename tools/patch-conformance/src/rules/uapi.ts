import type { Node } from 'web-tree-sitter';
import { type CModel, functionDeclarator } from '../c/cModel.js';
import { structLayout } from '../c/layout.js';
import { codecLayout } from '../ts/codec.js';
import { kernelApi, UAPI_ROLES, type UapiRole } from './catalogue.js';
import { calleeName, reachesCall, unparenthesized } from './cFacts.js';
import { LAUNCH_UPDATE } from './onPath.js';
import { tsEntity } from './reach.js';
import type { Finding, Rule, RuleContext } from './rule.js';

// The uAPI struct's fields are judged by what launch update does with them (their role), found by
// following the values of `params.X` (after the struct is copied from userspace) through locals,
// struct members, arithmetic, the catalogue's conversions (gfn_to_gpa() …) and the patch's own
// helpers, into the arguments the catalogue says take a role: a pin's user address, an RMP
// assignment's guest address … Names are never compared, except to say in a note that they differ.

const UAPI = 'uapi.kvm_sev_snp_launch_update';

const WHAT: Readonly<Record<UapiRole, string>> = {
  hva: 'userspace address',
  gpa: 'guest address',
  len: 'length',
  type: 'page type',
};

/**
 * The model's codec fields by role: launchUpdateIoctl() and launchUpdateV4Ioctl() in
 * packages/kvm-svm/src/uapi/ioctl.ts hand them to launch update as gpa (gfnStart × PAGE_SIZE), hva, len and type.
 */
const CODEC_ROLES: Readonly<Record<string, UapiRole>> = {
  gfnStart: 'gpa',
  uaddr: 'hva',
  len: 'len',
  type: 'type',
  pageType: 'type',
};

/** What a C value is made of: the uAPI fields it carries, and the calls (not conversions) it comes from. */
interface Value {
  readonly fields: ReadonlySet<string>;
  readonly calls: ReadonlySet<string>;
}

const NOTHING: Value = { fields: new Set(), calls: new Set() };
const join = (...values: Value[]): Value => ({
  fields: new Set(values.flatMap((v) => [...v.fields])),
  calls: new Set(values.flatMap((v) => [...v.calls])),
});
const size = (v: Value | undefined) => (v === undefined ? -1 : v.fields.size + v.calls.size);

/** A value reaching an argument that takes a role. */
interface Sink {
  readonly role: UapiRole;
  readonly api: string;
  readonly value: Value;
}

/** What one function knows: values of locals and of their members (`x.m`), and which locals hold the uAPI struct. */
interface Env {
  readonly values: Map<string, Value>;
  readonly uapi: Set<string>;
}

interface Analysis {
  readonly returns: Value;
  readonly sinks: readonly Sink[];
  /** The uAPI fields read anywhere. */
  readonly reads: ReadonlySet<string>;
}

const ARITHMETIC = new Set(['+', '-', '*', '/', '%', '<<', '>>', '&', '|', '^']);

/** The name a write goes to: `x`; `x.m` and `x->m` as "x.m"; `x[i]`, `*x` and `&x` as x. */
function target(node: Node | null | undefined): string | undefined {
  const n = unparenthesized(node);
  if (n?.type === 'identifier') return n.text;
  if (n?.type === 'field_expression') {
    const object = target(n.childForFieldName('argument'));
    return object === undefined ? undefined : `${object}.${n.childForFieldName('field')?.text ?? ''}`;
  }
  if (n?.type === 'subscript_expression' || n?.type === 'pointer_expression')
    return target(n.childForFieldName('argument'));
  if (n?.type === 'pointer_declarator' || n?.type === 'array_declarator')
    return target(n.childForFieldName('declarator'));
  return undefined;
}

const argumentsOf = (call: Node): (Node | null)[] => call.childForFieldName('arguments')?.namedChildren ?? [];

const parameterNames = (fn: Node): (string | undefined)[] =>
  (functionDeclarator(fn)?.childForFieldName('parameters')?.namedChildren ?? []).map((p) =>
    target(p?.childForFieldName('declarator')),
  );

/** A patch helper to follow: defined by the patch and not in the catalogue (which says what its APIs take). */
const helper = (c: CModel, name: string, visiting: ReadonlySet<string>): Node | undefined =>
  kernelApi('call', name) === undefined && !visiting.has(name) ? c.functions.get(name)?.node : undefined;

/**
 * Analyses already made, by helper and what it was called with (in order, as analyse() reads it):
 * a helper is followed for each of its calls, in each pass over its caller, and again for the
 * caller's sinks and returns, so without them a chain of helpers is analysed 2^length times.
 */
type Analysed = Map<string, Analysis>;

const calledWith = (name: string, env: Env, visiting: ReadonlySet<string>): string =>
  JSON.stringify([
    name,
    [...visiting],
    [...env.uapi],
    [...env.values].map(([key, value]) => [key, [...value.fields], [...value.calls]]),
  ]);

/** Follows the values of one function (flow-insensitively, to a fixpoint) into its role sinks, helpers included. */
function analyse(c: CModel, fn: Node, env: Env, visiting: ReadonlySet<string>, analysed: Analysed): Analysis {
  const uapiRef = (expr: Node | null | undefined): boolean => {
    const name = target(expr);
    return name !== undefined && env.uapi.has(name);
  };
  /** The environment a helper starts with: each parameter bound to its argument, members and all. */
  const bind = (callee: Node, call: Node): Env => {
    const args = argumentsOf(call);
    const bound: Env = { values: new Map(), uapi: new Set() };
    parameterNames(callee).forEach((param, i) => {
      const arg = args[i];
      if (param === undefined || arg === undefined) return;
      bound.values.set(param, evaluate(arg));
      if (uapiRef(arg)) bound.uapi.add(param);
      const from = target(arg);
      for (const [key, value] of env.values)
        if (from !== undefined && key.startsWith(`${from}.`))
          bound.values.set(`${param}${key.slice(from.length)}`, value);
    });
    return bound;
  };
  const follow = (call: Node): Analysis | undefined => {
    const name = calleeName(call);
    const callee = helper(c, name, visiting);
    if (callee === undefined) return undefined;
    const bound = bind(callee, call);
    const inner = new Set([...visiting, name]);
    const key = calledWith(name, bound, inner);
    const known = analysed.get(key) ?? analyse(c, callee, bound, inner, analysed);
    analysed.set(key, known);
    return known;
  };
  const evaluate = (expr: Node | null | undefined): Value => {
    const n = unparenthesized(expr);
    const field = (name: string) => evaluate(n?.childForFieldName(name));
    switch (n?.type) {
      case 'identifier':
        return env.values.get(n.text) ?? NOTHING;
      case 'field_expression': {
        const object = n.childForFieldName('argument');
        const name = n.childForFieldName('field')?.text ?? '';
        if (uapiRef(object)) return { fields: new Set([name]), calls: new Set() };
        const key = target(n);
        return key === undefined ? NOTHING : (env.values.get(key) ?? NOTHING);
      }
      case 'cast_expression':
        return field('value');
      case 'unary_expression':
        return n.childForFieldName('operator')?.text === '!' ? NOTHING : field('argument');
      case 'pointer_expression':
      case 'subscript_expression':
      case 'update_expression':
        return field('argument');
      case 'binary_expression':
        return ARITHMETIC.has(n.childForFieldName('operator')?.text ?? '')
          ? join(field('left'), field('right'))
          : NOTHING;
      case 'conditional_expression':
        return join(field('consequence'), field('alternative'));
      case 'assignment_expression':
      case 'comma_expression':
        return field('right');
      case 'call_expression': {
        const name = calleeName(n);
        const converts = kernelApi('call', name)?.converts;
        if (converts !== undefined) return evaluate(argumentsOf(n)[converts]);
        return follow(n)?.returns ?? { fields: new Set(), calls: new Set([name]) };
      }
      default:
        return NOTHING;
    }
  };

  /** What a write stores where: `x = e`, `T x = e`, `T x = { .m = e }`. The uAPI struct's own fields stay what userspace wrote. */
  const stores = (write: Node): [string, Value][] => {
    const init = write.type === 'init_declarator';
    const into = target(write.childForFieldName(init ? 'declarator' : 'left'));
    const from = write.childForFieldName(init ? 'value' : 'right');
    if (into === undefined || env.uapi.has(into.split('.')[0] ?? '')) return [];
    if (uapiRef(from) && !into.includes('.')) env.uapi.add(into);
    if (from?.type !== 'initializer_list') return [[into, evaluate(from)]];
    return from.namedChildren.flatMap((item): [string, Value][] => {
      if (item?.type !== 'initializer_pair') return [[into, evaluate(item)]];
      const member = item.childForFieldName('designator')?.namedChildren[0]?.text;
      return member === undefined ? [] : [[`${into}.${member}`, evaluate(item.childForFieldName('value'))]];
    });
  };
  /** `f(…, &x)`: x as f leaves it, a value f made (RFC v3's `hva_to_gpa(kvm, hva, &gpa)`). */
  const outParameters = (call: Node): [string, Value][] =>
    argumentsOf(call).flatMap((arg): [string, Value][] => {
      const into = arg?.type === 'pointer_expression' && arg.child(0)?.type === '&' ? target(arg) : undefined;
      return into === undefined || env.uapi.has(into.split('.')[0] ?? '')
        ? []
        : [[into, { fields: new Set(), calls: new Set([calleeName(call)]) }]];
    });
  const writes = fn.descendantsOfType(['assignment_expression', 'init_declarator', 'call_expression']);
  for (let changed = true; changed; ) {
    changed = false;
    for (const write of writes) {
      const stored =
        write === null ? [] : write.type === 'call_expression' ? outParameters(write) : stores(write);
      for (const [key, value] of stored) {
        const joined = join(env.values.get(key) ?? NOTHING, value);
        if (size(joined) > size(env.values.get(key))) {
          env.values.set(key, joined);
          changed = true;
        }
      }
    }
  }

  const sinks: Sink[] = [];
  const reads = new Set<string>();
  for (const call of fn.descendantsOfType('call_expression')) {
    if (call === null) continue;
    const name = calleeName(call);
    const api = kernelApi('call', name);
    const args = argumentsOf(call);
    const inner = follow(call);
    sinks.push(...(inner?.sinks ?? []));
    for (const read of inner?.reads ?? []) reads.add(read);
    // The copy that fills the uAPI struct reads userspace, but none of the struct's fields.
    if (api?.fills !== undefined && uapiRef(args[api.fills])) continue;
    for (const role of UAPI_ROLES) {
      const ref = api?.takes?.[role];
      const arg = ref === undefined ? undefined : args[ref.arg];
      if (ref === undefined || arg === undefined || arg === null) continue;
      const value =
        ref.member === undefined
          ? evaluate(arg)
          : (env.values.get(`${target(arg)}.${ref.member}`) ?? NOTHING);
      sinks.push({ role, api: name, value });
    }
  }
  for (const use of fn.descendantsOfType('field_expression'))
    if (use !== null && uapiRef(use.childForFieldName('argument')))
      reads.add(use.childForFieldName('field')?.text ?? '');
  const returns = join(...fn.descendantsOfType('return_statement').map((r) => evaluate(r?.namedChildren[0])));
  return { returns, sinks, reads };
}

/** The launch update's locals of type `struct <name>` (or a pointer to it) that a user copy fills. */
function uapiLocals(fn: Node, struct: string): Set<string> {
  const declared = fn
    .descendantsOfType('declaration')
    .filter((d) => d?.childForFieldName('type')?.childForFieldName('name')?.text === struct)
    .flatMap(
      (d) =>
        d?.childrenForFieldName('declarator').map((n) => target(n?.childForFieldName('declarator') ?? n)) ??
        [],
    );
  const filled = fn.descendantsOfType('call_expression').flatMap((call) => {
    const fills = call === null ? undefined : kernelApi('call', calleeName(call))?.fills;
    return call === null || fills === undefined ? [] : [target(argumentsOf(call)[fills])];
  });
  return new Set(declared.filter((name): name is string => name !== undefined && filled.includes(name)));
}

/** Per role, the uAPI fields that reach it and the sinks of that role; with the fields launch update reads. */
interface Roles {
  readonly fields: Readonly<Record<UapiRole, ReadonlySet<string>>>;
  readonly sinks: readonly Sink[];
  readonly reads: ReadonlySet<string>;
}

const rolesCache = new WeakMap<CModel, Roles | undefined>();

/** The roles of the uAPI struct's fields in the patch's launch update; undefined without one (or without the struct). */
function roles(c: CModel): Roles | undefined {
  if (rolesCache.has(c)) return rolesCache.get(c);
  const fn = c.entities.get(LAUNCH_UPDATE);
  const struct = c.entities.get(UAPI);
  let found: Roles | undefined;
  if (fn?.kind === 'function' && struct?.kind === 'struct') {
    const env: Env = { values: new Map(), uapi: uapiLocals(fn.node, struct.name) };
    const { sinks, reads } = analyse(c, fn.node, env, new Set([fn.name]), new Map());
    const of = (role: UapiRole) =>
      new Set(sinks.filter((s) => s.role === role).flatMap((s) => [...s.value.fields]));
    found = { fields: { hva: of('hva'), gpa: of('gpa'), len: of('len'), type: of('type') }, sinks, reads };
  }
  rolesCache.set(c, found);
  return found;
}

/** Where a role's value comes from when no field reaches it: a memslot lookup first, else the calls it is made of. */
function origin(c: CModel, sinks: readonly Sink[]): string {
  const calls = [...new Set(sinks.flatMap((s) => [...s.value.calls]))];
  const isMemslot = (name: string) => kernelApi('call', name)?.concern === 'memslot';
  // A helper of the patch that looks the memslot up (RFC v3's hva_to_gpa()) counts as the lookup.
  const memslot = calls.filter((name) => {
    const helper = c.functions.get(name)?.node;
    return isMemslot(name) || (helper !== undefined && reachesCall(c, helper, isMemslot));
  });
  const named = (names: string[]) => names.map((n) => `${n}()`).join(', ');
  if (memslot.length > 0) return `; it comes from a memslot lookup: ${named(memslot)}`;
  return calls.length > 0 ? `; it comes from ${named(calls)}` : '';
}

const SINKS: Readonly<Record<'hva' | 'gpa', string>> = {
  hva: 'a pin or a user copy',
  gpa: 'an RMP assignment',
};

export const uapiHvaAndGpa: Rule = {
  id: 'uapi-hva-and-gpa',
  rationale:
    'Review point 1: the LAUNCH_UPDATE uAPI struct carries both the userspace address (to pin) and the guest physical address.',
  check({ c }) {
    const struct = c.entities.get(UAPI);
    if (struct === undefined || struct.kind !== 'struct') return [];
    const layout = structLayout(struct.node);
    if (typeof layout === 'string')
      return [{ rule: this.id, message: `cannot lay out the C struct: ${layout}`, c: struct.location }];
    const found = roles(c);
    if (found === undefined)
      return [
        {
          rule: this.id,
          message: `no annotated launch update (${LAUNCH_UPDATE}) shows what the fields of struct ${struct.name} are used as`,
          c: struct.location,
        },
      ];
    return (['hva', 'gpa'] as const).flatMap((role): Finding[] => {
      if (layout.fields.some((f) => found.fields[role].has(f.name))) return [];
      const sinks = found.sinks.filter((s) => s.role === role);
      const apis = [...new Set(sinks.map((s) => `${s.api}()`))].join(', ');
      const reached =
        sinks.length === 0
          ? `launch update makes no call to ${SINKS[role]} that a field could reach`
          : `no field of it reaches the ${WHAT[role]} of ${apis}${origin(c, sinks)}`;
      return [
        {
          rule: this.id,
          message: `struct ${struct.name} has no ${WHAT[role]}: ${reached}`,
          c: struct.location,
        },
      ];
    });
  },
};

const bytes = (n: number) => `${n} byte${n === 1 ? '' : 's'}`;
const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());

/** The C struct and the codec laid out, or why they cannot be compared; undefined when the patch or the model lacks one. */
function layouts({ c, ts }: RuleContext) {
  const struct = c.entities.get(UAPI);
  const codec = tsEntity(ts, UAPI, c.flavour);
  if (struct === undefined || struct.kind !== 'struct' || codec === undefined) return undefined;
  const cLayout = structLayout(struct.node);
  const tsLayout = codecLayout(codec.node);
  return { struct, codec, cLayout, tsLayout };
}

export const uapiCodecLayout: Rule = {
  id: 'uapi-codec-layout',
  rationale:
    'The TS codec of the uAPI struct must put every field where the C compiler does: at each offset the same size, and the addresses, length and page type where the C launch update takes them.',
  check(context) {
    const both = layouts(context);
    if (both === undefined) return [];
    const { struct, codec, cLayout, tsLayout } = both;
    const { c } = context;
    if (typeof cLayout === 'string' || typeof tsLayout === 'string') {
      return [
        {
          rule: this.id,
          message: `cannot compare layouts: ${typeof cLayout === 'string' ? cLayout : tsLayout}`,
          c: struct.location,
          ts: codec.location,
        },
      ];
    }
    const findings: Finding[] = [];
    const at = (line: number) => ({ file: codec.location.file, line });
    const add = (message: string, cAt = struct.location, tsAt = codec.location) =>
      findings.push({ rule: this.id, message, c: cAt, ts: tsAt });
    // Of another size, it is another struct: field-by-field differences would only restate that.
    if (cLayout.size !== tsLayout.size) {
      add(
        `C struct is ${bytes(cLayout.size)} (fields at ${cLayout.fields.map((f) => f.offset).join(', ')}), the ${c.flavour} codec ${bytes(tsLayout.size)} (at ${tsLayout.fields.map((f) => f.offset).join(', ')}): another uAPI, not compared field by field`,
      );
      return findings;
    }
    const found = roles(c);
    for (const field of tsLayout.fields) {
      const mine = cLayout.fields.find((f) => f.offset === field.offset);
      const role = CODEC_ROLES[field.name];
      const holders = role === undefined ? [] : cLayout.fields.filter((f) => found?.fields[role].has(f.name));
      if (mine === undefined)
        add(
          `codec field ${field.name} puts ${bytes(field.size)} at ${field.offset}, where the C struct has no field`,
          struct.location,
          at(field.line),
        );
      else if (mine.size !== field.size)
        add(
          `at ${field.offset} the C struct has ${mine.name}, ${bytes(mine.size)}; the codec ${field.name}, ${bytes(field.size)}`,
          c.locate(mine.node),
          at(field.line),
        );
      else if (role !== undefined && holders.length > 0 && !holders.includes(mine))
        add(
          `the ${WHAT[role]}: C launch update takes it from ${holders.map((h) => `${h.name} at ${h.offset}`).join(', ')}, the codec's ${field.name} is at ${field.offset}`,
          c.locate(holders[0]?.node ?? struct.node),
          at(field.line),
        );
    }
    for (const field of cLayout.fields)
      if (found?.reads.has(field.name) && !tsLayout.fields.some((f) => f.offset === field.offset))
        add(
          `C field ${field.name} at ${field.offset} is read by launch update, but the codec has no field there`,
          c.locate(field.node),
        );
    return findings;
  },
  notes(context) {
    const both = layouts(context);
    if (both === undefined || typeof both.cLayout === 'string' || typeof both.tsLayout === 'string')
      return [];
    const { cLayout, tsLayout, struct } = both;
    if (cLayout.size !== tsLayout.size) return [];
    const renamed = tsLayout.fields.flatMap((field) => {
      const mine = cLayout.fields.find((f) => f.offset === field.offset && f.size === field.size);
      return mine === undefined || camel(mine.name) === field.name ? [] : [`${field.name} is ${mine.name}`];
    });
    return renamed.length === 0
      ? []
      : [
          `struct ${struct.name} names fields otherwise than the codec, matched by offset: ${renamed.join(', ')}`,
        ];
  },
};
