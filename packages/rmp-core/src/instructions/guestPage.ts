import {
  checkOwnership,
  type Fault,
  type GuestAsidVmpl,
  inTwoMegPage,
  NPF_PRIVATE_RMP,
  NpfInfo,
  npf,
} from '../access.js';
import type { PageSize } from '../entry.js';
import { PAGE_SIZE, PAGES_PER_2M } from '../layout.js';
import type { RmpTable } from '../table.js';

/** The page a guest instruction (PVALIDATE, RMPADJUST, RMPQUERY) names by virtual address, translated. */
export interface GuestPage {
  /** System page frame the guest page maps to (the 2 MiB-aligned one for a 2 MiB operand). */
  readonly pfn: number;
  /** Guest physical address of the page. */
  readonly gpa: number;
  /** RCX: 0 = 4 KiB, 1 = 2 MiB. */
  readonly pageSize: PageSize;
}

/** An instruction either returns a code in EAX or faults before it completes. */
export type InstructionOutcome<Ret extends number> = { readonly kind: 'ret'; readonly ret: Ret } | Fault;

/**
 * The operand checks PVALIDATE and RMPADJUST share (APM vol. 2 §15.36.6, §15.36.10, Table 15-40):
 * 'input' for a 2 MiB operand whose guest address is not 2 MiB aligned (the instruction sees only
 * rAX, the guest's address; where the nested page table puts it is the RMP's business); #NPF when
 * the page is not this guest's at this gpa, or is immutable; #NPF with SIZEM for a 4 KiB operand
 * inside a 2 MiB RMP page; 'size-mismatch' for a 2 MiB operand over 4 KiB entries, which is what a
 * guest retries as 512 × 4 KiB (coconut-svsm pvalidate_range; Oak's snp Error: FailInput "not 2MB
 * aligned", FailSizeMismatch "2MB validation backed by 4KB pages"). Undefined when the operand is good.
 */
export function checkGuestPage(
  table: RmpTable,
  guest: GuestAsidVmpl,
  page: GuestPage,
): Fault | 'input' | 'size-mismatch' | undefined {
  const twoMeg = page.pageSize === '2M';
  if (twoMeg && page.gpa % (PAGES_PER_2M * PAGE_SIZE) !== 0) return 'input';
  const failed = checkOwnership(table, guest, page.pfn, page.gpa);
  if (failed !== undefined) return npf(failed, NPF_PRIVATE_RMP);
  const rmp2M = inTwoMegPage(table, page.pfn);
  if (!twoMeg && rmp2M) return npf('Page-Size', NPF_PRIVATE_RMP + NpfInfo.SIZEM);
  if (twoMeg && !rmp2M) return 'size-mismatch';
  return undefined;
}

/** The pfns an operand covers: one page, or the 512 of a 2 MiB page. */
export function operandEnd(page: GuestPage): number {
  return page.pfn + (page.pageSize === '2M' ? PAGES_PER_2M : 1);
}
