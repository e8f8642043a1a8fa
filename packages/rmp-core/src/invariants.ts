import type { RmpEntry } from './entry.js';
import { hex } from './format.js';
import { PAGE_SIZE, PAGES_PER_2M } from './layout.js';
import type { RmpTable } from './table.js';

/** A rule every RMP keeps whatever the instructions do to it (see {@link checkInvariants}). */
export type InvariantRule =
  | 'validated-unassigned'
  | 'vmsa-unassigned'
  | 'hypervisor-page-with-owner'
  | 'firmware-page-validated'
  | '2m-gpa-misaligned'
  | '2m-range-disagrees'
  | '2m-entry-outside-2m-page';

/** A page whose entry breaks a rule, and how. */
export interface InvariantViolation {
  readonly rule: InvariantRule;
  readonly pfn: number;
  readonly message: string;
}

/**
 * Lists every entry that breaks a rule the RMP must keep (APM vol. 2 §15.36: owners per Table
 * 15-35, and this model's 2 MiB representation: all 512 entries of an assigned 2 MiB page carry
 * it, with consecutive gpas). The instructions keep these; a direct `write` can break them.
 */
export function checkInvariants(table: RmpTable): InvariantViolation[] {
  const violations: InvariantViolation[] = [];
  const report = (rule: InvariantRule, pfn: number, message: string) =>
    violations.push({ rule, pfn, message: `pfn ${hex(pfn)}: ${message}` });
  for (const [pfn, e] of table.entries()) {
    checkOwner(pfn, e, report);
    if (!e.assigned || e.pageSize !== '2M') continue;
    const base = pfn - (pfn % PAGES_PER_2M);
    if (pfn === base) check2MPage(table, base, e, report);
    else if (!isAssigned2M(table.read(base))) {
      report(
        '2m-entry-outside-2m-page',
        pfn,
        `a 2M entry, but its 2M-aligned entry ${hex(base)} is not an assigned 2M page`,
      );
    }
  }
  return violations;
}

type Report = (rule: InvariantRule, pfn: number, message: string) => void;

/** Owner encodings of APM vol. 2 Table 15-35: hypervisor (0, ASID 0), guest (1, ASID), AMD-SP (1, ASID 0, immutable). */
function checkOwner(pfn: number, e: RmpEntry, report: Report): void {
  if (!e.assigned) {
    if (e.validated) report('validated-unassigned', pfn, 'validated but not assigned');
    if (e.vmsa) report('vmsa-unassigned', pfn, 'VMSA but not assigned');
    if (e.asid !== 0 || e.immutable)
      report('hypervisor-page-with-owner', pfn, 'not assigned, yet has an ASID or is immutable');
  } else if (e.asid === 0 && e.validated) {
    // ASID 0 pages are the firmware's (immutable) or reclaimed from it (Reclaim: immutable clear,
    // AMD-ASPFW snp_mcmd_page_reclaim); neither is ever a validated guest page.
    report('firmware-page-validated', pfn, 'page of ASID 0 (firmware or reclaimed) marked validated');
  }
}

function check2MPage(table: RmpTable, base: number, e: RmpEntry, report: Report): void {
  if (e.gpa % (PAGES_PER_2M * PAGE_SIZE) !== 0)
    report('2m-gpa-misaligned', base, `2M page at gpa ${hex(e.gpa)}, not 2M aligned`);
  const end = Math.min(base + PAGES_PER_2M, table.hostPages);
  for (let pfn = base + 1; pfn < end; pfn++) {
    const sub = table.read(pfn);
    const gpa = e.gpa + (pfn - base) * PAGE_SIZE;
    const same =
      isAssigned2M(sub) &&
      sub.asid === e.asid &&
      sub.gpa === gpa &&
      sub.immutable === e.immutable &&
      sub.validated === e.validated &&
      sub.vmsa === e.vmsa &&
      sub.vmplPerms.every((p, i) => p === e.vmplPerms[i]);
    if (!same)
      report(
        '2m-range-disagrees',
        pfn,
        `disagrees with the 2M page at ${hex(base)} (expected gpa ${hex(gpa)})`,
      );
  }
}

function isAssigned2M(e: RmpEntry): boolean {
  return e.assigned && e.pageSize === '2M';
}
