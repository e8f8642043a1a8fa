import { SyntaxKind } from 'ts-morph';
import { cCalls, cIdentifiers } from '../c/cModel.js';
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

/** The static rules, each tied to a point of the review (../shared/ARCHITECTURE.md). */
export const RULES: readonly Rule[] = [noMemslotSrcu, fourKibOnly, dirtyAccessedUnpin, revertOnlyTouched];
