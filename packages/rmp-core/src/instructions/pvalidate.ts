import type { GuestAsidVmpl } from '../access.js';
import { W1_VALIDATED } from '../layout.js';
import { PvalidateRet } from '../returnCodes.js';
import type { RmpTable } from '../table.js';
import { checkGuestPage, type GuestPage, type InstructionOutcome, operandEnd } from './guestPage.js';

export interface PvalidateOperand extends GuestPage {
  /** RDX: true to validate, false to rescind. */
  readonly validate: boolean;
}

/**
 * PVALIDATE (F2 0F 01 FF), executed by the guest: sets or clears Validated of its own page.
 * FAIL_PERMISSION below VMPL0; FAIL_INPUT for an unaligned 2 MiB operand; FAIL_SIZEMISMATCH for a
 * 2 MiB operand over 4 KiB entries (the guest retries as 512 × 4 KiB); FAIL_NOUPDATE (CF = 1)
 * when Validated already has the requested value; #NPF when the page is not the guest's at that
 * gpa, immutable, or a 4 KiB operand in a 2 MiB page (SIZEM). APM vol. 2 §15.36.6, Table 15-40;
 * arch/x86/include/asm/sev.h; the check order follows microsoft/verismo's RMP model.
 */
export function pvalidate(
  table: RmpTable,
  guest: GuestAsidVmpl,
  operand: PvalidateOperand,
): InstructionOutcome<PvalidateRet> {
  if (guest.vmpl !== 0) return { kind: 'ret', ret: PvalidateRet.FAIL_PERMISSION };
  const failed = checkGuestPage(table, guest, operand);
  if (failed === 'input') return { kind: 'ret', ret: PvalidateRet.FAIL_INPUT };
  if (failed === 'size-mismatch') return { kind: 'ret', ret: PvalidateRet.FAIL_SIZEMISMATCH };
  if (failed !== undefined) return failed;
  if (((table.w1(operand.pfn) & W1_VALIDATED) !== 0) === operand.validate) {
    return { kind: 'ret', ret: PvalidateRet.FAIL_NOUPDATE };
  }
  for (let p = operand.pfn; p < operandEnd(operand); p++) {
    const w1 = operand.validate ? table.w1(p) | W1_VALIDATED : table.w1(p) & ~W1_VALIDATED;
    table.store(p, table.w0(p), w1 >>> 0, table.w2(p));
  }
  return { kind: 'ret', ret: PvalidateRet.SUCCESS };
}
