import type { PageSize } from './entry.js';
import { psmash } from './instructions/psmash.js';
import { type RmpState, rmpupdate } from './instructions/rmpupdate.js';
import { PAGES_PER_2M, W0_ASSIGNED } from './layout.js';
import { codeName, Errno, type ErrnoName, PsmashRet, RmpUpdateRet } from './returnCodes.js';
import type { RmpTable } from './table.js';
import { traceChange } from './trace/traceChange.js';

/** What the kernel's rmpupdate() returns when the sanity check refuses an assigned page: -EBUSY. */
export const RMPUPDATE_REFUSED_ASSIGNED = -Errno.EBUSY;
/**
 * What the kernel's rmpupdate() returns: RMPUPDATE's return code, or -EBUSY when the sanity check refuses.
 */
export type HostRmpUpdateRet = RmpUpdateRet | typeof RMPUPDATE_REFUSED_ASSIGNED;

/**
 * Decides, before an RMPUPDATE runs, that it fails with this code instead (FAIL_INUSE, say: the
 * transient failures the model cannot produce itself, having no concurrency). Undefined: run it.
 */
export type RmpUpdateFault = (pfn: number, state: RmpState) => RmpUpdateRet | undefined;

/** The kernel's optional behaviour around RMPUPDATE. */
export interface HostRmpOptions {
  /**
   * The review's optional sanity check (off by default): rmpupdate() reads the entry first and
   * refuses to assign a page that is already assigned, returning -EBUSY before anything changes.
   */
  readonly rejectAssignedOnUpdate?: boolean;
}

/** The name of a host rmpupdate() result: an RMPUPDATE return code, or EBUSY from the sanity check. */
export function hostRmpUpdateRetName(ret: number): string {
  return ret === RMPUPDATE_REFUSED_ASSIGNED ? 'EBUSY' : codeName(RmpUpdateRet, ret);
}

/** The errno the kernel turns a result into: EBUSY for the sanity check, EFAULT for a failed RMPUPDATE (arch/x86/virt/svm/sev.c). */
export function hostRmpUpdateErrno(ret: HostRmpUpdateRet): ErrnoName | undefined {
  if (ret === RmpUpdateRet.SUCCESS) return undefined;
  return ret === RMPUPDATE_REFUSED_ASSIGNED ? 'EBUSY' : 'EFAULT';
}

const psmashRetName = (ret: number): string => codeName(PsmashRet, ret);

/**
 * The kernel's RMP helpers (arch/x86/virt/svm/sev.c): rmpupdate() around the instruction, with
 * the review's tracepoint (every call emits old → new, return code and who asked) and its
 * optional sanity check; rmp_make_private(); the dedicated reset to hypervisor-owned; psmash().
 * Unlike Linux, rmpupdate() does not retry FAIL_OVERLAP: without concurrency in the model an
 * overlap is structural and would never clear.
 */
export class HostRmp {
  readonly rejectAssignedOnUpdate: boolean;
  /** Fault injection for tests and scenarios (`inject` at `rmpupdate`); consulted by every rmpupdate(). */
  fault: RmpUpdateFault | undefined = undefined;

  constructor(
    readonly table: RmpTable,
    options: HostRmpOptions = {},
  ) {
    this.rejectAssignedOnUpdate = options.rejectAssignedOnUpdate ?? false;
  }

  /**
   * rmpupdate(): RMPUPDATE of `pfn` to `state` on behalf of `by`.
   * @conforms virt.rmpupdate
   */
  rmpupdate(pfn: number, state: RmpState, by: string): HostRmpUpdateRet {
    if (!this.table.trace.active) return this.update(pfn, state);
    return traceChange(
      this.table,
      'rmpupdate',
      by,
      pfn,
      () => this.update(pfn, state),
      hostRmpUpdateRetName,
    ) as HostRmpUpdateRet;
  }

  /** rmp_make_private(): assign `pfn` to `asid` at `gpa` (immutable while the firmware owns it, as during launch). */
  makePrivate(
    pfn: number,
    gpa: number,
    asid: number,
    immutable: boolean,
    by: string,
    pageSize: PageSize = '4K',
  ): HostRmpUpdateRet {
    return this.rmpupdate(pfn, { gpa, assigned: true, pageSize, immutable, asid }, by);
  }

  /**
   * The dedicated reset helper: back to hypervisor-owned, all zero but the page size
   * (rmp_make_shared() in arch/x86/virt/svm/sev.c). Never refused by the sanity check.
   * @conforms virt.reset_to_hypervisor
   */
  resetToHypervisor(pfn: number, by: string, pageSize: PageSize = '4K'): HostRmpUpdateRet {
    return this.rmpupdate(pfn, { gpa: 0, assigned: false, pageSize, immutable: false, asid: 0 }, by);
  }

  /** psmash(): split a 2 MiB page into 4 KiB entries, traced like rmpupdate(). */
  psmash(pfn: number, by: string): PsmashRet {
    return traceChange(
      this.table,
      'psmash',
      by,
      pfn,
      () => psmash(this.table, pfn),
      psmashRetName,
    ) as PsmashRet;
  }

  private update(pfn: number, state: RmpState): HostRmpUpdateRet {
    if (this.rejectAssignedOnUpdate && state.assigned && this.anyAssigned(pfn, state.pageSize)) {
      return RMPUPDATE_REFUSED_ASSIGNED;
    }
    const injected = this.fault?.(pfn, state);
    if (injected !== undefined && injected !== RmpUpdateRet.SUCCESS) return injected;
    return rmpupdate(this.table, pfn, state);
  }

  private anyAssigned(pfn: number, pageSize: PageSize): boolean {
    const table = this.table;
    if (!table.has(pfn)) return false; // the instruction reports FAIL_INPUT
    const end = Math.min(pageSize === '2M' ? pfn + PAGES_PER_2M : pfn + 1, table.hostPages);
    return table.anyW0(pfn, end, W0_ASSIGNED);
  }
}
