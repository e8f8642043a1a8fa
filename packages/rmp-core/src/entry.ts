import { RmpFieldRangeError, RmpLengthError, RmpReservedBitsError } from './errors.js';
import {
  asidOfW1,
  GPA_LIMIT,
  gpaOfWords,
  gpaToW0,
  gpaToW1,
  MAX_ASID,
  PAGE_SIZE,
  RESERVED_MASKS,
  RMP_ENTRY_BYTES,
  VMPL_PERMS_ALL,
  vmplPermsOfW2,
  W0_ASSIGNED,
  W0_IMMUTABLE,
  W0_PAGE_SIZE_2M,
  W1_ASID_SHIFT,
  W1_VALIDATED,
  W1_VMSA,
} from './layout.js';

/** RMP page size (RMP_PG_SIZE_4K = 0, RMP_PG_SIZE_2M = 1; arch/x86/include/asm/sev.h). */
export type PageSize = '4K' | '2M';

/** Permission masks of VMPL1, VMPL2 and VMPL3 (VmplPerm bits). */
export type VmplPerms = readonly [vmpl1: number, vmpl2: number, vmpl3: number];

/** One RMP entry, decoded. */
export interface RmpEntry {
  readonly assigned: boolean;
  readonly pageSize: PageSize;
  readonly immutable: boolean;
  /** Guest physical address the page is assigned at: 4 KiB aligned, below 2^51. */
  readonly gpa: number;
  readonly asid: number;
  readonly vmsa: boolean;
  readonly validated: boolean;
  readonly vmplPerms: VmplPerms;
}

/** The all-zero entry: hypervisor-owned, 4 KiB, what every page holds after RMP initialisation. */
export const HYPERVISOR_OWNED: RmpEntry = Object.freeze({
  assigned: false,
  pageSize: '4K',
  immutable: false,
  gpa: 0,
  asid: 0,
  vmsa: false,
  validated: false,
  vmplPerms: Object.freeze([0, 0, 0] as const),
});

/** The three stored words of an entry (W0, W1, W2; see layout.ts). */
export type EntryWords = readonly [w0: number, w1: number, w2: number];

/** Packs an entry into its words; throws RmpFieldRangeError for a value the layout cannot hold. */
export function entryToWords(entry: RmpEntry): EntryWords {
  checkGpa(entry.gpa);
  checkRange('asid', entry.asid, MAX_ASID);
  const [p1, p2, p3] = entry.vmplPerms;
  // Constant names: the firmware encodes an entry per launched page, so no string is built unless one fails.
  checkRange('vmpl1_perms', p1, VMPL_PERMS_ALL);
  checkRange('vmpl2_perms', p2, VMPL_PERMS_ALL);
  checkRange('vmpl3_perms', p3, VMPL_PERMS_ALL);
  const w0 =
    (entry.assigned ? W0_ASSIGNED : 0) |
    (entry.pageSize === '2M' ? W0_PAGE_SIZE_2M : 0) |
    (entry.immutable ? W0_IMMUTABLE : 0) |
    gpaToW0(entry.gpa);
  const w1 =
    gpaToW1(entry.gpa) |
    (entry.asid << W1_ASID_SHIFT) |
    (entry.vmsa ? W1_VMSA : 0) |
    (entry.validated ? W1_VALIDATED : 0);
  const w2 = (p1 << 8) | (p2 << 16) | (p3 << 24);
  return [w0 >>> 0, w1 >>> 0, w2 >>> 0];
}

/** Decodes stored words; bits outside the fields are ignored (the table never stores them). */
export function entryFromWords(w0: number, w1: number, w2: number): RmpEntry {
  return {
    assigned: (w0 & W0_ASSIGNED) !== 0,
    pageSize: (w0 & W0_PAGE_SIZE_2M) !== 0 ? '2M' : '4K',
    immutable: (w0 & W0_IMMUTABLE) !== 0,
    gpa: gpaOfWords(w0, w1),
    asid: asidOfW1(w1),
    vmsa: (w1 & W1_VMSA) !== 0,
    validated: (w1 & W1_VALIDATED) !== 0,
    vmplPerms: [vmplPermsOfW2(w2, 1), vmplPermsOfW2(w2, 2), vmplPermsOfW2(w2, 3)],
  };
}

/** The 16 bytes the hardware stores for this entry, little-endian. */
export function encodeRmpEntry(entry: RmpEntry): Uint8Array {
  const bytes = new Uint8Array(RMP_ENTRY_BYTES);
  const view = new DataView(bytes.buffer);
  for (const [i, word] of entryToWords(entry).entries()) view.setUint32(4 * i, word, true);
  return bytes;
}

/** Decodes 16 raw bytes; throws RmpLengthError or RmpReservedBitsError on malformed input. */
export function decodeRmpEntry(bytes: Uint8Array): RmpEntry {
  if (bytes.length !== RMP_ENTRY_BYTES) throw new RmpLengthError('RMP entry', RMP_ENTRY_BYTES, bytes.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, RMP_ENTRY_BYTES);
  const words = [0, 1, 2, 3].map((i) => view.getUint32(4 * i, true));
  const reserved = words.flatMap((word, i) => setBits((word & (RESERVED_MASKS[i] ?? 0)) >>> 0, 32 * i));
  if (reserved.length > 0) throw new RmpReservedBitsError(reserved);
  return entryFromWords(words[0] ?? 0, words[1] ?? 0, words[2] ?? 0);
}

function setBits(word: number, base: number): number[] {
  const bits: number[] = [];
  for (let bit = 0; bit < 32; bit++) if ((word >>> bit) & 1) bits.push(base + bit);
  return bits;
}

function checkGpa(gpa: number): void {
  if (!Number.isSafeInteger(gpa) || gpa < 0 || gpa >= GPA_LIMIT || gpa % PAGE_SIZE !== 0) {
    throw new RmpFieldRangeError('gpa', gpa, 'a 4 KiB aligned address below 2^51');
  }
}

function checkRange(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RmpFieldRangeError(name, value, `an integer in [0, ${max}]`);
  }
}
