import { PAGE_SIZE } from '@snp-ref/rmp-core';

/**
 * The CPUID page (struct snp_cpuid_table, arch/x86/include/asm/sev.h; docs/spec-notes.md §5.4):
 * count u32, 12 reserved bytes, then up to 64 entries of 48 bytes {eax_in, ecx_in u32; xcr0_in,
 * xss_in u64; eax, ebx, ecx, edx u32; reserved u64}.
 */
export const CPUID_MAX_ENTRIES = 64;
const ENTRIES_AT = 16;
const ENTRY_BYTES = 48;

/** One entry of the CPUID page: the leaf, subleaf, XCR0 and XSS it applies to, and the four registers. */
export interface CpuidEntry {
  readonly eaxIn: number;
  readonly ecxIn: number;
  readonly xcr0In: bigint;
  readonly xssIn: bigint;
  readonly eax: number;
  readonly ebx: number;
  readonly ecx: number;
  readonly edx: number;
}

/** The CPUID page's 4096 bytes for `entries` (the first {@link CPUID_MAX_ENTRIES} of them). */
export function encodeCpuidPage(entries: readonly CpuidEntry[]): Buffer {
  const page = Buffer.alloc(PAGE_SIZE);
  page.writeUInt32LE(entries.length, 0);
  entries.slice(0, CPUID_MAX_ENTRIES).forEach((e, i) => {
    const at = ENTRIES_AT + i * ENTRY_BYTES;
    page.writeUInt32LE(e.eaxIn, at);
    page.writeUInt32LE(e.ecxIn, at + 4);
    page.writeBigUInt64LE(e.xcr0In, at + 8);
    page.writeBigUInt64LE(e.xssIn, at + 16);
    page.writeUInt32LE(e.eax, at + 24);
    page.writeUInt32LE(e.ebx, at + 28);
    page.writeUInt32LE(e.ecx, at + 32);
    page.writeUInt32LE(e.edx, at + 36);
  });
  return page;
}

/** The entries of a CPUID page; undefined when its count is beyond 64. */
export function decodeCpuidPage(page: Uint8Array): CpuidEntry[] | undefined {
  const view = Buffer.from(page.buffer, page.byteOffset, page.byteLength);
  const count = view.readUInt32LE(0);
  if (count > CPUID_MAX_ENTRIES) return undefined;
  return Array.from({ length: count }, (_, i) => {
    const at = ENTRIES_AT + i * ENTRY_BYTES;
    return {
      eaxIn: view.readUInt32LE(at),
      ecxIn: view.readUInt32LE(at + 4),
      xcr0In: view.readBigUInt64LE(at + 8),
      xssIn: view.readBigUInt64LE(at + 16),
      eax: view.readUInt32LE(at + 24),
      ebx: view.readUInt32LE(at + 28),
      ecx: view.readUInt32LE(at + 32),
      edx: view.readUInt32LE(at + 36),
    };
  });
}

/** The platform's CPUID values, by leaf and subleaf: what the firmware checks a CPUID page against. */
export type PlatformCpuid = ReadonlyMap<
  string,
  readonly [eax: number, ebx: number, ecx: number, edx: number]
>;

/** The key of a leaf and subleaf in a {@link PlatformCpuid} map. */
export const cpuidKey = (eaxIn: number, ecxIn: number) => `${eaxIn >>> 0}:${ecxIn >>> 0}`;

/**
 * The model's CPUID check (the firmware's real per-leaf policy is not public): a guest may report
 * a leaf the platform has, with any register bits the platform has (it may hide features) and none
 * it lacks. Returns the corrected entries, equal to the input when the page is acceptable: unknown
 * leaves read as zero and extra bits are cleared, as the firmware's rewritten page shows.
 */
export function correctCpuidEntries(entries: readonly CpuidEntry[], platform: PlatformCpuid): CpuidEntry[] {
  return entries.map((e) => {
    const [eax, ebx, ecx, edx] = platform.get(cpuidKey(e.eaxIn, e.ecxIn)) ?? [0, 0, 0, 0];
    return {
      ...e,
      eax: (e.eax & eax) >>> 0,
      ebx: (e.ebx & ebx) >>> 0,
      ecx: (e.ecx & ecx) >>> 0,
      edx: (e.edx & edx) >>> 0,
    };
  });
}
