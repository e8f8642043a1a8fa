/**
 * Architectural return codes (EAX after the instruction). Values from the early SNP host RFC
 * header arch/x86/include/asm/rmptable.h (svsm-vtpm/linux) and, where upstream names them,
 * torvalds/linux arch/x86/include/asm/sev.h (RMPUPDATE_FAIL_OVERLAP 4, PSMASH_FAIL_INUSE 3,
 * PVALIDATE_FAIL_SIZEMISMATCH 6, PVALIDATE_FAIL_NOUPDATE 255); RMPADJUST's from coconut-svsm
 * kernel/src/sev/utils.rs. See docs/spec-notes.md §1.5.
 */

export const RmpUpdateRet = {
  SUCCESS: 0,
  FAIL_INPUT: 1,
  FAIL_PERMISSION: 2,
  FAIL_INUSE: 3,
  FAIL_OVERLAP: 4,
} as const;
export type RmpUpdateRet = (typeof RmpUpdateRet)[keyof typeof RmpUpdateRet];

/** PSMASH's return codes. */
export const PsmashRet = {
  SUCCESS: 0,
  FAIL_INPUT: 1,
  FAIL_PERMISSION: 2,
  FAIL_INUSE: 3,
  /**
   * The entry is not a 2 MiB page that can be split. MSVC's __psmash (from the APM) gives 7 for
   * "the page doesn't meet the requirements for expansion"; the 2021 RFC header had 4.
   */
  FAIL_BADADDR: 7,
} as const;
/** One of {@link PsmashRet}'s codes. */
export type PsmashRet = (typeof PsmashRet)[keyof typeof PsmashRet];

/** PVALIDATE's return codes. */
export const PvalidateRet = {
  SUCCESS: 0,
  FAIL_INPUT: 1,
  /** PVALIDATE below VMPL0 (APM: VMPL0 only); the code follows microsoft/verismo's RMP model. */
  FAIL_PERMISSION: 2,
  FAIL_SIZEMISMATCH: 6,
  /** Not an EAX value: rc 0 with CF = 1 (the RMP was not changed); Linux's software code 255. */
  FAIL_NOUPDATE: 255,
} as const;
/** One of {@link PvalidateRet}'s codes. */
export type PvalidateRet = (typeof PvalidateRet)[keyof typeof PvalidateRet];

/** RMPREAD and RMPQUERY (MSVC __rmpread / __rmpquery). */
export const RmpReadRet = { SUCCESS: 0, FAIL_INPUT: 1, FAIL_PERMISSION: 2 } as const;
export type RmpReadRet = (typeof RmpReadRet)[keyof typeof RmpReadRet];

/** RMPADJUST's return codes. */
export const RmpAdjustRet = {
  SUCCESS: 0,
  FAIL_INPUT: 1,
  FAIL_PERMISSION: 2,
  FAIL_SIZEMISMATCH: 6,
} as const;
/** One of {@link RmpAdjustRet}'s codes. */
export type RmpAdjustRet = (typeof RmpAdjustRet)[keyof typeof RmpAdjustRet];

/**
 * Kernel errno values the host helpers return negated, as the kernel does
 * (include/uapi/asm-generic/errno-base.h).
 */
export const Errno = {
  EPERM: 1,
  EINTR: 4,
  EIO: 5,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOTTY: 25,
  EAGAIN: 11,
} as const;
/** An errno by name (a key of {@link Errno}). */
export type ErrnoName = keyof typeof Errno;

const namesByTable = new WeakMap<object, ReadonlyMap<number, string>>();

/** The name of a code in one of the tables above, or its number in hex when it has none. */
export function codeName(codes: Readonly<Record<string, number>>, code: number): string {
  let names = namesByTable.get(codes);
  if (names === undefined) {
    names = new Map(Object.entries(codes).map(([name, value]) => [value, name]));
    namesByTable.set(codes, names);
  }
  return names.get(code) ?? `0x${code.toString(16)}`;
}

/** Looks a name up in a code table; undefined when the table has no such name. */
export function codeByName(codes: Readonly<Record<string, number>>, name: string): number | undefined {
  return Object.hasOwn(codes, name) ? codes[name] : undefined;
}
