import type { PageSize } from './entry.js';
import {
  gpaOfWords,
  PAGES_PER_2M,
  VmplPerm,
  vmplPermsOfW2,
  W0_ASSIGNED,
  W0_IMMUTABLE,
  W0_PAGE_SIZE_2M,
  W1_ASID_MASK,
  W1_ASID_SHIFT,
  W1_VALIDATED,
} from './layout.js';
import type { RmpTable } from './table.js';

/**
 * The RMP checks of APM vol. 2 §15.36.10 ("RMP and VMPL Access Checks", Table 15-39). The result
 * names the check that failed so callers can explain a fault, not just report it.
 */
export type AccessCheck =
  | 'Hypervisor-Owned'
  | 'RMP-Covered'
  | 'Guest-Owned'
  | 'Reverse-Map'
  | 'Mutable'
  | 'Page-Size'
  | 'Validated'
  | 'VMPL';

/**
 * Who runs an instruction or makes an access inside a guest: its ASID and VMPL (not the firmware's
 * guest context page, psp-firmware's GuestContext).
 */
export interface GuestAsidVmpl {
  readonly asid: number;
  /** Virtual machine privilege level 0..3 (APM vol. 2 §15.35.7). */
  readonly vmpl: 0 | 1 | 2 | 3;
}

/** The kind of a memory access: a data read, a data write or an instruction fetch. */
export type AccessKind = 'read' | 'write' | 'fetch';

/** x86 #PF error code bits (arch/x86/include/asm/trap_pf.h). */
export const PfError = { PROT: 1 << 0, WRITE: 1 << 1, USER: 1 << 2, RMP: 2 ** 31 } as const;

/**
 * #NPF EXITINFO1 bits: 0..2 as #PF, GUEST_FINAL 32 (fault on the final gpa), RMP 31, ENC 34,
 * SIZEM 35, VMPL 36 (APM vol. 2 §15.36.10; KVM PFERR_GUEST_* in arch/x86/include/asm/kvm_host.h).
 */
export const NpfInfo = {
  PRESENT: 1,
  WRITE: 2,
  USER: 4,
  RMP: 2 ** 31,
  GUEST_FINAL: 2 ** 32,
  ENC: 2 ** 34,
  SIZEM: 2 ** 35,
  VMPL: 2 ** 36,
} as const;

/** EXITINFO1 of an RMP #NPF on a private access by an instruction (PVALIDATE, RMPADJUST, …). */
export const NPF_PRIVATE_RMP = NpfInfo.PRESENT + NpfInfo.GUEST_FINAL + NpfInfo.RMP + NpfInfo.ENC;

/** VMEXIT_NPF (arch/x86/include/uapi/asm/svm.h SVM_EXIT_NPF). */
export const SVM_EXIT_NPF = 0x400;
/** #VC error code for a private access to a page that is not validated (APM vol. 2 §15.36.10). */
export const VC_PAGE_NOT_VALIDATED = 0x404;

/**
 * What an access check decides: OK, or the fault the access raises (#PF for the host, #NPF or #VC for a
 * guest) with the check that raised it.
 */
export type AccessResult =
  | { readonly kind: 'OK' }
  | { readonly kind: '#PF'; readonly check: AccessCheck; readonly errorCode: number }
  | {
      readonly kind: 'NPF';
      readonly check: AccessCheck;
      readonly exitCode: number;
      readonly exitInfo1: number;
    }
  | { readonly kind: '#VC'; readonly check: 'Validated'; readonly errorCode: number };

/** An access result that is a fault. */
export type Fault = Exclude<AccessResult, { kind: 'OK' }>;

/** The result of an access that is allowed, shared. */
export const ACCESS_OK: AccessResult = Object.freeze({ kind: 'OK' });

/** An access by the host (the kernel or a VMM) to a system page. */
export interface HostAccess {
  readonly pfn: number;
  readonly kind: AccessKind;
  /** Size of the host mapping used: a 2 MiB mapping is checked over all 512 pages (APM 15.36.10). */
  readonly mapping?: PageSize;
  /** The access comes from user mode (a VMM process) rather than the kernel. */
  readonly user?: boolean;
}

/**
 * A host (hypervisor or VMM) access. Reads are not RMP-checked; writes need the page
 * Hypervisor-Owned, else #PF with the RMP bit (APM vol. 2 Table 15-39, row "Host").
 */
export function checkHostAccess(table: RmpTable, access: HostAccess): AccessResult {
  if (access.kind === 'read' || !table.has(access.pfn)) return ACCESS_OK; // uncovered = hypervisor-owned
  if (hypervisorOwned(table, access.pfn, access.mapping ?? '4K')) return ACCESS_OK;
  const errorCode = PfError.RMP + PfError.PROT + PfError.WRITE + (access.user === true ? PfError.USER : 0);
  return { kind: '#PF', check: 'Hypervisor-Owned', errorCode };
}

/** An access by an SEV-SNP guest to one of its pages, as the nested page table maps it. */
export interface GuestAccess {
  /** System page the nested page table maps `gpa` to. */
  readonly pfn: number;
  /** Guest physical address of the page (4 KiB aligned). */
  readonly gpa: number;
  readonly kind: AccessKind;
  /** C-bit of the guest mapping; fetches are always private (APM vol. 2 §15.34.5). */
  readonly private: boolean;
  /** Size of the nested page table mapping (default 4K). */
  readonly npt?: PageSize;
  /** CPL 3 (matters for fetch permission: EXEC_USER vs EXEC_SUPERVISOR). */
  readonly user?: boolean;
}

/** A guest access of an SNP-active guest, through the checks of APM vol. 2 Table 15-39. */
export function checkGuestAccess(table: RmpTable, guest: GuestAsidVmpl, access: GuestAccess): AccessResult {
  const write = access.kind === 'write';
  const npt = access.npt ?? '4K';
  const info =
    NpfInfo.PRESENT +
    NpfInfo.GUEST_FINAL +
    (write ? NpfInfo.WRITE : 0) +
    (access.user === true ? NpfInfo.USER : 0);
  if (!access.private && access.kind !== 'fetch') {
    // Shared (C=0): only data writes are checked, for Hypervisor-Owned.
    if (!write || !table.has(access.pfn) || hypervisorOwned(table, access.pfn, npt)) return ACCESS_OK;
    return npf('Hypervisor-Owned', info + NpfInfo.RMP);
  }
  const enc = info + NpfInfo.RMP + NpfInfo.ENC;
  const failed = checkOwnership(table, guest, access.pfn, access.gpa);
  if (failed !== undefined) return npf(failed, enc);
  if ((npt === '2M') !== inTwoMegPage(table, access.pfn)) return npf('Page-Size', enc);
  if ((table.w1(access.pfn) & W1_VALIDATED) === 0) {
    return { kind: '#VC', check: 'Validated', errorCode: VC_PAGE_NOT_VALIDATED };
  }
  if (!vmplAllows(table.w2(access.pfn), guest.vmpl, access)) return npf('VMPL', enc + NpfInfo.VMPL);
  return ACCESS_OK;
}

/**
 * The checks whose failure is #NPF for any private access, PVALIDATE and RMPADJUST included:
 * RMP-Covered, Guest-Owned, Reverse-Map, Mutable (APM vol. 2 §15.36.10). Undefined when all pass.
 */
export function checkOwnership(
  table: RmpTable,
  guest: GuestAsidVmpl,
  pfn: number,
  gpa: number,
): AccessCheck | undefined {
  if (!table.has(pfn)) return 'RMP-Covered';
  const w0 = table.w0(pfn);
  const w1 = table.w1(pfn);
  if ((w0 & W0_ASSIGNED) === 0 || (w1 & W1_ASID_MASK) >>> W1_ASID_SHIFT !== guest.asid) return 'Guest-Owned';
  if (gpaOfWords(w0, w1) !== gpa - (gpa & 0xfff)) return 'Reverse-Map'; // `&`: no float modulo on a hot path
  if ((w0 & W0_IMMUTABLE) !== 0) return 'Mutable';
  return undefined;
}

export function npf(check: AccessCheck, exitInfo1: number): Fault {
  return { kind: 'NPF', check, exitCode: SVM_EXIT_NPF, exitInfo1 };
}

/** True when the page lies in an assigned 2 MiB RMP page (its 2 MiB-aligned entry says so). */
export function inTwoMegPage(table: RmpTable, pfn: number): boolean {
  const w0 = table.w0(pfn - (pfn & (PAGES_PER_2M - 1)));
  return (w0 & (W0_ASSIGNED | W0_PAGE_SIZE_2M)) === (W0_ASSIGNED | W0_PAGE_SIZE_2M);
}

/** Hypervisor-Owned: Assigned = 0; through a 2 MiB mapping, for all 512 pages (APM 15.36.10). */
function hypervisorOwned(table: RmpTable, pfn: number, mapping: PageSize): boolean {
  if (mapping === '4K') return (table.w0(pfn) & W0_ASSIGNED) === 0;
  const base = pfn - (pfn & (PAGES_PER_2M - 1));
  return !table.anyW0(base, Math.min(base + PAGES_PER_2M, table.hostPages), W0_ASSIGNED);
}

/** VMPL0 may do anything; other VMPLs need their mask's bit (APM vol. 2 Table 15-36). */
function vmplAllows(w2: number, vmpl: GuestAsidVmpl['vmpl'], access: GuestAccess): boolean {
  if (vmpl === 0) return true;
  const perms = vmplPermsOfW2(w2, vmpl);
  switch (access.kind) {
    case 'read':
      return (perms & VmplPerm.READ) !== 0;
    case 'write': // write without read is illegal: data accesses fault (APM vol. 2 §15.35.7)
      return (perms & (VmplPerm.READ | VmplPerm.WRITE)) === (VmplPerm.READ | VmplPerm.WRITE);
    case 'fetch':
      return (perms & (access.user === true ? VmplPerm.EXEC_USER : VmplPerm.EXEC_SUPERVISOR)) !== 0;
  }
}
