import type { PageSize } from '../entry.js';
import { asidOfW1, gpaOfWords, PAGES_PER_2M, W0_ASSIGNED, W0_IMMUTABLE, W0_PAGE_SIZE_2M } from '../layout.js';
import { RmpReadRet } from '../returnCodes.js';
import type { RmpTable } from '../table.js';

/**
 * What RMPREAD (F2 0F 01 FD) writes to [RCX]: the architectural view of an entry, without
 * Validated, VMSA or permissions (arch/x86/virt/svm/sev.c `struct rmpentry`).
 */
export interface RmpReadOutput {
  gpa: number;
  assigned: boolean;
  pageSize: PageSize;
  /** Set for a 2 MiB-aligned pfn when another page of its 2 MiB region is assigned (Linux 3e43c60eb3e3). */
  hpageRegionStatus: boolean;
  immutable: boolean;
  asid: number;
}

/** An RMPREAD output to reuse across calls, all fields zero. */
export function emptyRmpReadOutput(): RmpReadOutput {
  return { gpa: 0, assigned: false, pageSize: '4K', hpageRegionStatus: false, immutable: false, asid: 0 };
}

/**
 * RMPREAD: the host reads the entry of `pfn` into `out` (reused, so a hot loop allocates nothing).
 * FAIL_INPUT when the RMP does not cover pfn (MSVC __rmpread). This is also the model's RMP query
 * for the host, what snp_lookup_rmpentry() does in arch/x86/virt/svm/sev.c.
 */
export function rmpread(table: RmpTable, pfn: number, out: RmpReadOutput): RmpReadRet {
  if (!table.has(pfn)) return RmpReadRet.FAIL_INPUT;
  const w0 = table.w0(pfn);
  const w1 = table.w1(pfn);
  out.gpa = gpaOfWords(w0, w1);
  out.assigned = (w0 & W0_ASSIGNED) !== 0;
  out.pageSize = (w0 & W0_PAGE_SIZE_2M) !== 0 ? '2M' : '4K';
  out.immutable = (w0 & W0_IMMUTABLE) !== 0;
  out.asid = asidOfW1(w1);
  out.hpageRegionStatus = pfn % PAGES_PER_2M === 0 && otherPageAssigned(table, pfn);
  return RmpReadRet.SUCCESS;
}

/** The 16 bytes RMPREAD stores: gpa u64 @0, assigned @8, pagesize|hpage_region_status<<1 @9, immutable @0xA, asid u32 @0xC. */
export function encodeRmpReadOutput(out: RmpReadOutput): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(out.gpa), true);
  view.setUint8(8, out.assigned ? 1 : 0);
  view.setUint8(9, (out.pageSize === '2M' ? 1 : 0) | (out.hpageRegionStatus ? 2 : 0));
  view.setUint8(0xa, out.immutable ? 1 : 0);
  view.setUint32(0xc, out.asid, true);
  return bytes;
}

function otherPageAssigned(table: RmpTable, base: number): boolean {
  return table.anyW0(base + 1, Math.min(base + PAGES_PER_2M, table.hostPages), W0_ASSIGNED);
}
