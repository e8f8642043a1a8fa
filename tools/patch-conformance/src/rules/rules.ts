import { SyntaxKind } from 'ts-morph';
import { cCalls, cIdentifiers } from '../c/cModel.js';
import { structLayout } from '../c/layout.js';
import { codecLayout } from '../ts/codec.js';
import { tsCalls } from '../ts/tsModel.js';
import { cReachable, tsEntity, tsLocation, tsReachable } from './reach.js';
import type { Finding, Rule, RuleContext } from './rule.js';

const LAUNCH_UPDATE = 'kvm.snp_launch_update';

/** A rule that looks for forbidden names on the launch-update path, in C and in TS. */
function forbiddenOnPath(
  id: string,
  rationale: string,
  cPattern: RegExp,
  tsPattern: RegExp,
  what: string,
): Rule {
  return {
    id,
    rationale,
    check({ c, ts, root }: RuleContext): Finding[] {
      const findings: Finding[] = [];
      for (const fn of cReachable(c, LAUNCH_UPDATE)) {
        const hit = cIdentifiers(fn.node).find((n) => cPattern.test(n.text));
        if (hit !== undefined)
          findings.push({ rule: id, message: `${what}: "${hit.text}" in C ${fn.name}()`, c: c.locate(hit) });
      }
      const start = tsEntity(ts, LAUNCH_UPDATE, c.patch.flavour);
      for (const node of start === undefined ? [] : tsReachable(ts, start)) {
        const hit = node.getDescendantsOfKind(SyntaxKind.Identifier).find((n) => tsPattern.test(n.getText()));
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

const noMemslotSrcu = forbiddenOnPath(
  'no-memslot-srcu',
  'Review point 1: userspace gives hva and gpa; launch update does no memslot lookup and takes no kvm->srcu.',
  /memslot|srcu/i,
  /^(memslots|gpaOf|byHva)$/,
  'memslot or srcu use reachable from launch update',
);

const fourKibOnly = forbiddenOnPath(
  'four-kib-only',
  'Review point 2: 4 KiB is hardcoded; no page-level size/mask indirection on the path.',
  /^(page_level_size|page_level_mask|PG_LEVEL_\w+|level|X86_TO_RMP_PG_LEVEL)$/,
  /^(pageLevelSize|pageLevelPageSize|PG_LEVEL_4K|level)$/,
  'page-level indirection on the launch-update path',
);

const dirtyAccessedUnpin: Rule = {
  id: 'dirty-accessed-unpin',
  rationale:
    'Review point 6: every pinned page is marked dirty and accessed, then unpinned, on success and on failure.',
  check({ c, ts }) {
    const called = new Set(cReachable(c, LAUNCH_UPDATE).flatMap((fn) => cCalls(fn.node)));
    const missing = ['set_page_dirty_lock', 'mark_page_accessed', 'unpin_user_page'].filter(
      (name) => !called.has(name),
    );
    const findings: Finding[] = [];
    const entity = c.entities.get(LAUNCH_UPDATE);
    if (entity !== undefined && missing.length > 0) {
      findings.push({
        rule: this.id,
        message: `launch update never calls ${missing.join(', ')}`,
        c: entity.location,
      });
    }
    const start = tsEntity(ts, LAUNCH_UPDATE, c.patch.flavour);
    if (
      start !== undefined &&
      !tsReachable(ts, start).some((n) => tsCalls(n).some((call) => call.name === 'releaseDirty'))
    ) {
      findings.push({
        rule: this.id,
        message: 'launch update never releases pages dirty (releaseDirty)',
        ts: start.location,
      });
    }
    return findings;
  },
};

const revertOnlyTouched: Rule = {
  id: 'revert-only-touched',
  rationale:
    'Review point 6: on failure only the RMP entries this call changed are reset, not the whole range.',
  check({ c, ts, root }) {
    const findings: Finding[] = [];
    for (const fn of cReachable(c, LAUNCH_UPDATE)) {
      for (const loop of fn.node.descendantsOfType('for_statement')) {
        if (loop === null) continue;
        const condition = loop.childForFieldName('condition')?.text ?? '';
        const calls = cCalls(loop);
        // The loop that measures (it issues the firmware command) makes pages private; another loop
        // over the whole range that updates the RMP is an error path resetting what it never reached.
        const resets =
          calls.some((name) => /rmpupdate|reset_to_hypervisor/.test(name)) &&
          !calls.includes('sev_issue_cmd');
        if (/npages/.test(condition) && resets) {
          findings.push({
            rule: this.id,
            message: `a loop over the whole range (${condition}) resets RMP entries: pages never reached are reset too`,
            c: c.locate(loop),
          });
        }
      }
    }
    const start = tsEntity(ts, LAUNCH_UPDATE, c.patch.flavour);
    for (const node of start === undefined ? [] : tsReachable(ts, start)) {
      for (const loop of node.getDescendantsOfKind(SyntaxKind.ForOfStatement)) {
        const resets = tsCalls(loop).some((call) => /^(rmpupdate|resetToHypervisor)$/.test(call.name));
        if (loop.getExpression().getText() === 'pfns' && resets) {
          findings.push({
            rule: this.id,
            message: 'a loop over every pinned page (pfns) resets RMP entries',
            ts: tsLocation(loop, root),
          });
        }
      }
    }
    return findings;
  },
};

const UAPI = 'uapi.kvm_sev_snp_launch_update';
const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const uapiHvaAndGpa: Rule = {
  id: 'uapi-hva-and-gpa',
  rationale:
    'Review point 1: the LAUNCH_UPDATE uAPI struct carries both the userspace address (to pin) and the guest physical address.',
  check({ c }) {
    const struct = c.entities.get(UAPI);
    if (struct === undefined || struct.kind !== 'struct') return [];
    const layout = structLayout(struct.node);
    if (typeof layout === 'string')
      return [{ rule: this.id, message: `cannot lay out the C struct: ${layout}`, c: struct.location }];
    const names = layout.fields.map((f) => f.name);
    const missing = [
      names.some((n) => /uaddr|hva/.test(n)) ? undefined : 'a userspace address (uaddr)',
      names.some((n) => /gfn|gpa/.test(n)) ? undefined : 'a guest address (gfn_start or gpa)',
    ].filter((m) => m !== undefined);
    if (missing.length === 0) return [];
    return [
      {
        rule: this.id,
        message: `struct ${struct.name} has no ${missing.join(' and no ')}`,
        c: struct.location,
      },
    ];
  },
};

const uapiCodecLayout: Rule = {
  id: 'uapi-codec-layout',
  rationale:
    'The TS codec of the uAPI struct must put every field where the C compiler does: same names, offsets, sizes and total size.',
  check({ c, ts }) {
    const struct = c.entities.get(UAPI);
    const codec = tsEntity(ts, UAPI, c.patch.flavour);
    if (struct === undefined || struct.kind !== 'struct' || codec === undefined) return [];
    const cLayout = structLayout(struct.node);
    const tsLayout = codecLayout(codec.node);
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
    if (cLayout.size !== tsLayout.size) {
      findings.push({
        rule: this.id,
        message: `C struct is ${cLayout.size} bytes, the codec ${tsLayout.size}`,
        c: struct.location,
        ts: codec.location,
      });
    }
    for (const field of cLayout.fields) {
      const mine = tsLayout.fields.find((f) => f.name === camel(field.name));
      const padding = /^(pad|rsvd|reserved)/.test(field.name);
      if (mine === undefined) {
        if (!padding)
          findings.push({
            rule: this.id,
            message: `C field ${field.name} has no codec field ${camel(field.name)}`,
            c: c.locate(field.node),
            ts: codec.location,
          });
      } else if (mine.offset !== field.offset || mine.size !== field.size) {
        findings.push({
          rule: this.id,
          message: `${field.name}: C puts ${field.size} bytes at ${field.offset}, the codec ${mine.size} at ${mine.offset}`,
          c: c.locate(field.node),
          ts: at(mine.line),
        });
      }
    }
    for (const field of tsLayout.fields) {
      if (!cLayout.fields.some((f) => camel(f.name) === field.name)) {
        findings.push({
          rule: this.id,
          message: `codec field ${field.name} is not in the C struct`,
          c: struct.location,
          ts: at(field.line),
        });
      }
    }
    return findings;
  },
};

const tracedRmpupdate: Rule = {
  id: 'traced-rmpupdate',
  rationale: 'Review point 4: every rmpupdate() emits a trace event with the old and the new entry.',
  check({ c, ts }) {
    const findings: Finding[] = [];
    const fn = c.entities.get('virt.rmpupdate');
    if (fn !== undefined) {
      const traces = fn.node
        .descendantsOfType('call_expression')
        .filter((call) => /^trace_/.test(call?.childForFieldName('function')?.text ?? ''));
      const withOldAndNew = traces.some(
        (call) => /\bold\b/.test(call?.text ?? '') && /\bnew\b/.test(call?.text ?? ''),
      );
      if (!withOldAndNew)
        findings.push({
          rule: this.id,
          message: 'rmpupdate() emits no trace event with the old and the new entry',
          c: fn.location,
        });
    }
    const method = tsEntity(ts, 'virt.rmpupdate', c.patch.flavour);
    if (method !== undefined && !tsCalls(method.node).some((call) => call.name === 'traceChange')) {
      findings.push({
        rule: this.id,
        message: 'rmpupdate() does not go through traceChange',
        ts: method.location,
      });
    }
    return findings;
  },
};

/** The static rules, each tied to a point of the review (docs/review.md). */
export const RULES: readonly Rule[] = [
  noMemslotSrcu,
  fourKibOnly,
  dirtyAccessedUnpin,
  revertOnlyTouched,
  uapiHvaAndGpa,
  uapiCodecLayout,
  tracedRmpupdate,
];
