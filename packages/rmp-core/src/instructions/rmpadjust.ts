import { type GuestAsidVmpl, VC_PAGE_NOT_VALIDATED } from '../access.js';
import { VMPL_PERMS_ALL, vmplPermsOfW2, W1_VALIDATED, W1_VMSA } from '../layout.js';
import { RmpAdjustRet } from '../returnCodes.js';
import type { RmpTable } from '../table.js';
import { checkGuestPage, type GuestPage, type InstructionOutcome, operandEnd } from './guestPage.js';

export interface RmpAdjustOperand extends GuestPage {
  /** RDX bits 7:0: the VMPL whose permissions change; must be numerically above the caller's. */
  readonly targetVmpl: number;
  /** RDX bits 15:8: the new permission mask (VmplPerm bits). */
  readonly perms: number;
  /** RDX bit 16: mark the page as a VMSA; ignored unless the caller runs at VMPL0. */
  readonly vmsa: boolean;
}

/**
 * RMPADJUST (F3 0F 01 FE), executed by the guest: sets the permissions of a less privileged VMPL
 * on its own page (APM vol. 2 §15.35.7 / §15.36.7; MSVC __rmpadjust; coconut-svsm RMPFlags).
 * FAIL_INPUT for a target above VMPL3, reserved permission bits or an unaligned 2 MiB operand;
 * FAIL_PERMISSION when the target is not below the caller or the mask grants what the caller
 * lacks; FAIL_SIZEMISMATCH, #NPF as for PVALIDATE; #VC when the page is not validated (the check
 * order of microsoft/verismo's RMP model).
 */
export function rmpadjust(
  table: RmpTable,
  guest: GuestAsidVmpl,
  operand: RmpAdjustOperand,
): InstructionOutcome<RmpAdjustRet> {
  const { targetVmpl, perms } = operand;
  if (!Number.isInteger(targetVmpl) || targetVmpl < 0 || targetVmpl > 3) return ret(RmpAdjustRet.FAIL_INPUT);
  if (!Number.isInteger(perms) || perms < 0 || perms > VMPL_PERMS_ALL) return ret(RmpAdjustRet.FAIL_INPUT);
  if (targetVmpl <= guest.vmpl) return ret(RmpAdjustRet.FAIL_PERMISSION);
  const failed = checkGuestPage(table, guest, operand);
  if (failed === 'input') return ret(RmpAdjustRet.FAIL_INPUT);
  if (failed === 'size-mismatch') return ret(RmpAdjustRet.FAIL_SIZEMISMATCH);
  if (failed !== undefined) return failed;
  if ((table.w1(operand.pfn) & W1_VALIDATED) === 0) {
    return { kind: '#VC', check: 'Validated', errorCode: VC_PAGE_NOT_VALIDATED };
  }
  const own = guest.vmpl === 0 ? VMPL_PERMS_ALL : vmplPermsOfW2(table.w2(operand.pfn), guest.vmpl);
  if ((perms & ~own) !== 0) return ret(RmpAdjustRet.FAIL_PERMISSION);
  const shift = 8 * targetVmpl;
  for (let p = operand.pfn; p < operandEnd(operand); p++) {
    const w2 = (table.w2(p) & ~(0xff << shift)) | (perms << shift);
    const w1 = guest.vmpl !== 0 ? table.w1(p) : operand.vmsa ? table.w1(p) | W1_VMSA : table.w1(p) & ~W1_VMSA;
    table.store(p, table.w0(p), w1 >>> 0, w2 >>> 0);
  }
  return ret(RmpAdjustRet.SUCCESS);
}

function ret(code: RmpAdjustRet): InstructionOutcome<RmpAdjustRet> {
  return { kind: 'ret', ret: code };
}
