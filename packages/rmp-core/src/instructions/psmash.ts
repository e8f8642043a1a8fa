import { inTwoMegPage } from '../access.js';
import { PAGES_PER_2M, W0_PAGE_SIZE_2M, W1_VALIDATED, W1_VMSA } from '../layout.js';
import { PsmashRet } from '../returnCodes.js';
import type { RmpTable } from '../table.js';

/**
 * PSMASH (F3 0F 01 FF): splits the assigned 2 MiB page at the 2 MiB-aligned `pfn` into 512 4 KiB
 * entries with consecutive gpas and every other field copied from the 2 MiB entry, Validated
 * included (APM vol. 2 §15.36.11; arch/x86/virt/svm/sev.c psmash()). FAIL_INPUT for an uncovered
 * or unaligned pfn, FAIL_BADADDR when the entry is not an assigned 2 MiB page. FAIL_INUSE is
 * transient on hardware (KVM retries it) and only arises here by fault injection.
 */
export function psmash(table: RmpTable, pfn: number): PsmashRet {
  if (!table.has(pfn) || pfn % PAGES_PER_2M !== 0 || pfn + PAGES_PER_2M > table.hostPages) {
    return PsmashRet.FAIL_INPUT;
  }
  if (!inTwoMegPage(table, pfn)) return PsmashRet.FAIL_BADADDR;
  const copied = table.w1(pfn) & (W1_VALIDATED | W1_VMSA);
  const perms = table.w2(pfn);
  for (let p = pfn; p < pfn + PAGES_PER_2M; p++) {
    const w0 = table.w0(p) & ~W0_PAGE_SIZE_2M;
    const w1 = (table.w1(p) & ~(W1_VALIDATED | W1_VMSA)) | copied;
    table.store(p, w0 >>> 0, w1 >>> 0, perms);
  }
  return PsmashRet.SUCCESS;
}
