import { inTwoMegPage } from '../access.js';
import type { PageSize } from '../entry.js';
import {
  GPA_LIMIT,
  gpaToW0,
  gpaToW1,
  MAX_ASID,
  PAGE_SIZE,
  PAGES_PER_2M,
  W0_ASSIGNED,
  W0_IMMUTABLE,
  W0_PAGE_SIZE_2M,
  W1_ASID_SHIFT,
} from '../layout.js';
import { RmpUpdateRet } from '../returnCodes.js';
import type { RmpTable } from '../table.js';

/**
 * The new state RMPUPDATE takes (RCX points to `struct rmp_state`: gpa, assigned, pagesize,
 * immutable, asid; arch/x86/include/asm/sev.h). Validated, VMSA and VMPL permissions are not
 * inputs: RMPUPDATE resets them.
 */
export interface RmpState {
  readonly gpa: number;
  readonly assigned: boolean;
  readonly pageSize: PageSize;
  readonly immutable: boolean;
  readonly asid: number;
}

/** The state `rmp_make_shared()` writes: all zero but the page size (arch/x86/virt/svm/sev.c). */
export function hypervisorState(pageSize: PageSize = '4K'): RmpState {
  return { gpa: 0, assigned: false, pageSize, immutable: false, asid: 0 };
}

/**
 * RMPUPDATE (F2 0F 01 FE): the hypervisor writes the RMP entry of `pfn`. It may do so at any time
 * with any state; the instruction fails only for:
 * - FAIL_INPUT: pfn not covered by the RMP, a 2 MiB state at an unaligned pfn or gpa, or a state
 *   that is none of the owner encodings (inferred: the APM only says "invalid input").
 * - FAIL_PERMISSION: the current entry is Immutable (APM vol. 2 §15.36.5; MSVC __rmpupdate).
 * - FAIL_OVERLAP: a 4 KiB update inside an assigned 2 MiB page, or a 2 MiB update over assigned
 *   4 KiB pages (MSVC __rmpupdate "overlapping 4-KB and 2-MB RMP entries"; KVM's PSMASH-first and
 *   is_large_rmp_possible() rules in arch/x86/kvm/svm/sev.c).
 * FAIL_INUSE (another CPU or a running VMRUN holds the entry) needs concurrency; the model has
 * none, so it only arises by fault injection.
 *
 * On success Validated and VMSA are cleared and VMPL1..3 lose every permission, VMPL0 keeping all
 * (APM vol. 2 §15.36.6, §15.36.7). A 2 MiB state is written to all 512 entries of the range (an
 * assigned one with consecutive gpas), so every page reads its owner; the 2 MiB-aligned entry is
 * the authoritative one (arch/x86/virt/svm/sev.c __snp_lookup_rmpentry()).
 */
export function rmpupdate(table: RmpTable, pfn: number, state: RmpState): RmpUpdateRet {
  if (!table.has(pfn) || !validState(state)) return RmpUpdateRet.FAIL_INPUT;
  const flags = (state.assigned ? W0_ASSIGNED : 0) | (state.immutable ? W0_IMMUTABLE : 0);
  const w1Asid = state.asid << W1_ASID_SHIFT;
  if (state.pageSize === '4K') {
    if ((table.w0(pfn) & W0_IMMUTABLE) !== 0) return RmpUpdateRet.FAIL_PERMISSION;
    if (inTwoMegPage(table, pfn)) return RmpUpdateRet.FAIL_OVERLAP;
    table.store(pfn, (flags | gpaToW0(state.gpa)) >>> 0, (gpaToW1(state.gpa) | w1Asid) >>> 0, 0);
    return RmpUpdateRet.SUCCESS;
  }
  if (
    pfn % PAGES_PER_2M !== 0 ||
    state.gpa % (PAGES_PER_2M * PAGE_SIZE) !== 0 ||
    pfn + PAGES_PER_2M > table.hostPages
  ) {
    return RmpUpdateRet.FAIL_INPUT;
  }
  const end = pfn + PAGES_PER_2M;
  if (table.anyW0(pfn, end, W0_IMMUTABLE)) return RmpUpdateRet.FAIL_PERMISSION;
  if (table.anyW0(pfn, end, W0_ASSIGNED) && !inTwoMegPage(table, pfn)) return RmpUpdateRet.FAIL_OVERLAP;
  for (let i = 0; i < PAGES_PER_2M; i++) {
    const gpa = state.assigned ? state.gpa + i * PAGE_SIZE : state.gpa;
    table.store(pfn + i, (flags | W0_PAGE_SIZE_2M | gpaToW0(gpa)) >>> 0, (gpaToW1(gpa) | w1Asid) >>> 0, 0);
  }
  return RmpUpdateRet.SUCCESS;
}

function validState(s: RmpState): boolean {
  const { gpa, asid } = s;
  // `&` sees the low 32 bits of an integer below GPA_LIMIT (< 2^53); `%` would cost a float modulo.
  const gpaOk = gpa >= 0 && gpa < GPA_LIMIT && (gpa & 0xfff) === 0 && Number.isInteger(gpa);
  const asidOk = asid >= 0 && asid <= MAX_ASID && (asid | 0) === asid;
  // Owner encodings (APM vol. 2 Table 15-35): hypervisor = unassigned, ASID 0; guest = assigned,
  // its ASID; AMD-SP = assigned, ASID 0, immutable. Anything else is taken as invalid input.
  const ownerOk = s.assigned ? asid !== 0 || s.immutable : asid === 0 && !s.immutable;
  return gpaOk && asidOk && (s.pageSize === '4K' || s.pageSize === '2M') && ownerOk;
}
