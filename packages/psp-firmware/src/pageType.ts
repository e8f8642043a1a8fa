/** SNP_PAGE_TYPE_* of SNP_LAUNCH_UPDATE (include/linux/psp-sev.h; SNP firmware ABI, PAGE_INFO PAGE_TYPE). */
export const PageType = {
  NORMAL: 0x1,
  VMSA: 0x2,
  ZERO: 0x3,
  UNMEASURED: 0x4,
  SECRETS: 0x5,
  CPUID: 0x6,
} as const;
export type PageType = (typeof PageType)[keyof typeof PageType];
/** A page type by name (a key of {@link PageType}). */
export type PageTypeName = keyof typeof PageType;

const NAMES = new Map<number, PageTypeName>(
  Object.entries(PageType).map(([name, value]) => [value, name as PageTypeName]),
);

/** The name of a page type, or undefined for a value the ABI does not define. */
export function pageTypeName(value: number): PageTypeName | undefined {
  return NAMES.get(value);
}

/** Page types whose contents enter the digest as SHA-384 of the page; the others contribute 48 zero bytes. */
export function isContentMeasured(type: PageType): boolean {
  return type === PageType.NORMAL || type === PageType.VMSA;
}
