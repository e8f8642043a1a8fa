import {
  checkOwnership,
  type Fault,
  type GuestAsidVmpl,
  inTwoMegPage,
  NPF_PRIVATE_RMP,
  npf,
} from '../access.js';
import type { PageSize } from '../entry.js';
import { VMPL_PERMS_ALL, vmplPermsOfW2, W1_VMSA } from '../layout.js';
import { RmpReadRet } from '../returnCodes.js';
import type { RmpTable } from '../table.js';

/** RMPQUERY's operands: the page, the guest address it must be mapped at, and the VMPL to read. */
export interface RmpQueryOperand {
  readonly pfn: number;
  readonly gpa: number;
  /** The VMPL whose permission mask to read. */
  readonly targetVmpl: number;
}

/** What RMPQUERY gives: the permissions and attributes of the page, or its failure code, or a fault. */
export type RmpQueryOutcome =
  | {
      readonly kind: 'ret';
      readonly ret: typeof RmpReadRet.SUCCESS;
      readonly perms: number;
      readonly vmsa: boolean;
      readonly pageSize: PageSize;
    }
  | { readonly kind: 'ret'; readonly ret: typeof RmpReadRet.FAIL_INPUT | typeof RmpReadRet.FAIL_PERMISSION }
  | Fault;

/**
 * RMPQUERY, executed by the guest: the permission mask of `targetVmpl`, the VMSA bit and the RMP
 * page size of its own page (MSVC __rmpquery). Assumed, as the read side of RMPADJUST: the same
 * ownership #NPF, and FAIL_PERMISSION for a target more privileged than the caller.
 */
export function rmpquery(table: RmpTable, guest: GuestAsidVmpl, operand: RmpQueryOperand): RmpQueryOutcome {
  const { pfn, targetVmpl } = operand;
  if (!Number.isInteger(targetVmpl) || targetVmpl < 0 || targetVmpl > 3) {
    return { kind: 'ret', ret: RmpReadRet.FAIL_INPUT };
  }
  if (targetVmpl < guest.vmpl) return { kind: 'ret', ret: RmpReadRet.FAIL_PERMISSION };
  const failed = checkOwnership(table, guest, pfn, operand.gpa);
  if (failed !== undefined) return npf(failed, NPF_PRIVATE_RMP);
  const w2 = table.w2(pfn);
  return {
    kind: 'ret',
    ret: RmpReadRet.SUCCESS,
    perms: targetVmpl === 0 ? VMPL_PERMS_ALL : vmplPermsOfW2(w2, targetVmpl as 1 | 2 | 3),
    vmsa: (table.w1(pfn) & W1_VMSA) !== 0,
    pageSize: inTwoMegPage(table, pfn) ? '2M' : '4K',
  };
}
