/**
 * Bit layout of the 16-byte raw RMP entry (Zen 3 / Zen 4, no RMPREAD), as Linux decodes it in
 * `struct rmpentry_raw` (torvalds/linux arch/x86/virt/svm/sev.c). The table stores an entry as
 * three little-endian 32-bit words: W0 = bits 31:0, W1 = bits 63:32 of the low qword, W2 = bits
 * 31:0 of the high qword. Bits 127:96 are reserved in this model and always zero.
 */

/** One field of the entry: its position counted in bits from bit 0 of byte 0. */
export interface BitField {
  readonly name: string;
  readonly start: number;
  readonly width: number;
}

const field = (name: string, start: number, width: number): BitField => ({ name, start, width });

/** Entry fields in bit order (arch/x86/virt/svm/sev.c `struct rmpentry_raw`, low qword). */
export const RMP_FIELDS = {
  /** bit 0: page is owned by a guest or the firmware. */
  assigned: field('assigned', 0, 1),
  /** bit 1: 0 = 4 KiB, 1 = 2 MiB (RMP_PG_SIZE_4K / RMP_PG_SIZE_2M, arch/x86/include/asm/sev.h). */
  pageSize: field('pagesize', 1, 1),
  /** bit 2: only the firmware may change the entry. */
  immutable: field('immutable', 2, 1),
  /** bits 50:12: guest frame number; Linux shifts it by PAGE_SHIFT to get the gpa. */
  gfn: field('gpa', 12, 39),
  /** bits 60:51: owning ASID. */
  asid: field('asid', 51, 10),
  /** bit 61: page holds a VMSA. */
  vmsa: field('vmsa', 61, 1),
  /** bit 62: the guest has PVALIDATEd the page. */
  validated: field('validated', 62, 1),
  /**
   * High qword: Linux only dumps it; on real parts it holds the VMPL permission masks
   * (docs/spec-notes.md §1.1). Its exact layout is not public, so this model defines one:
   * byte n (n = 1..3) is the permission mask of VMPL n. VMPL0 always has every permission.
   */
  vmpl1Perms: field('vmpl1_perms', 64 + 8, 8),
  vmpl2Perms: field('vmpl2_perms', 64 + 16, 8),
  vmpl3Perms: field('vmpl3_perms', 64 + 24, 8),
} as const;

/** Bits that must be zero: rsvd1 (11:3), rsvd2 (63), the VMPL0 byte, and bits 7:5 of each perms byte. */
export const RESERVED_MASKS: readonly [number, number, number, number] = [
  0x0000_0ff8, // W0 bits 11:3
  0x8000_0000, // W1 bit 31 = entry bit 63
  0xe0e0_e0ff, // W2: byte 0 (VMPL0) and bits 7:5 of each VMPL1..3 byte
  0xffff_ffff, // W3: not used by this model
];

/** Bytes in a 4 KiB page, the RMP's unit (one entry per 4 KiB page: AMD APM Vol 2 §15.36.3). */
export const PAGE_SIZE = 4096;

/** 4 KiB pages in a 2 MiB page. */
export const PAGES_PER_2M = 512;

/** Size of one raw entry in bytes (arch/x86/virt/svm/sev.c: the RMP holds 16 bytes per 4 KiB page). */
export const RMP_ENTRY_BYTES = 16;

// Word masks, derived from RMP_FIELDS so the layout is written once.
const F = RMP_FIELDS;
export const W0_ASSIGNED = 1 << F.assigned.start;
export const W0_PAGE_SIZE_2M = 1 << F.pageSize.start;
export const W0_IMMUTABLE = 1 << F.immutable.start;
/** W0 bits 31:12 hold gfn bits 19:0. */
export const W0_GFN_MASK = (0xffff_ffff << F.gfn.start) >>> 0;
/** W1 bits 18:0 hold gfn bits 38:20. */
export const W1_GFN_MASK = 2 ** (F.gfn.start + F.gfn.width - 32) - 1;
export const W1_ASID_SHIFT = F.asid.start - 32;
export const W1_ASID_MASK = ((2 ** F.asid.width - 1) << W1_ASID_SHIFT) >>> 0;
export const W1_VMSA = 1 << (F.vmsa.start - 32);
export const W1_VALIDATED = 1 << (F.validated.start - 32);

/** Largest value of the 10-bit ASID field. */
export const MAX_ASID = 2 ** F.asid.width - 1;
/** gpa field: 39-bit gfn, so gpa < 2^51. */
export const GPA_LIMIT = 2 ** (F.gfn.start + F.gfn.width);

/**
 * VMPL permission mask bits (APM vol. 2 Table 15-36; RMPADJUST attribute bits 15:8 in coconut-svsm
 * kernel/src/sev/utils.rs RMPFlags). Bits 7:5 are reserved. A clear bit makes the access #NPF.
 */
export const VmplPerm = {
  READ: 1 << 0,
  WRITE: 1 << 1,
  EXEC_USER: 1 << 2,
  EXEC_SUPERVISOR: 1 << 3,
  SUPERVISOR_SHADOW_STACK: 1 << 4,
} as const;
/** Every VMPL permission bit: what VMPL0 holds. */
export const VMPL_PERMS_ALL = 0x1f;

/** gpa encoded in W0/W1 (bits 50:12 of the entry). */
export function gpaOfWords(w0: number, w1: number): number {
  return ((w0 & W0_GFN_MASK) >>> 0) + (w1 & W1_GFN_MASK) * 2 ** 32;
}

/** The W0/W1 gfn bits for a 4 KiB aligned gpa below 2^51. */
export function gpaToW0(gpa: number): number {
  return (gpa & W0_GFN_MASK) >>> 0; // `&` takes the low 32 bits of any integer below 2^53 (ToInt32)
}
export function gpaToW1(gpa: number): number {
  return Math.floor(gpa / 2 ** 32) & W1_GFN_MASK;
}

export function asidOfW1(w1: number): number {
  return (w1 & W1_ASID_MASK) >>> W1_ASID_SHIFT;
}

/** VMPL n permission mask (n = 1..3) out of W2. */
export function vmplPermsOfW2(w2: number, vmpl: 1 | 2 | 3): number {
  return (w2 >>> (8 * vmpl)) & VMPL_PERMS_ALL;
}
