// AMD EPYC generations that run SEV-SNP, and how a report or a certificate names one.

/** The AMD EPYC generations that run SEV-SNP, as AMD's KDS names them. */
export const PRODUCTS = ['Milan', 'Genoa', 'Turin'] as const;
/** One of {@link PRODUCTS}. */
export type Product = (typeof PRODUCTS)[number];

/** Whether `name` is one of {@link PRODUCTS}, spelt as the KDS spells it. */
export const isProduct = (name: string): name is Product => (PRODUCTS as readonly string[]).includes(name);

/**
 * The generation of a CPUID family and model (virtee/sev src/lib.rs Generation::identify_cpu:
 * family 19h models 0h–Fh Milan, 10h–1Fh and A0h–AFh Genoa; family 1Ah models 0h–11h Turin).
 */
export function productOfCpuid(family: number, model: number): Product | undefined {
  if (family === 0x19 && model <= 0x0f) return 'Milan';
  if (family === 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)))
    return 'Genoa';
  if (family === 0x1a && model <= 0x11) return 'Turin';
  return undefined;
}

/**
 * The generation a VCEK's or VLEK's product-name extension names: "Milan-B0", "Genoa", "Turin"
 * (go-sev-guest kds/kds.go steppingDecoder: the name, then an optional "-<stepping>").
 */
export function productOfName(name: string): Product | undefined {
  const base = name.split('-')[0] ?? '';
  return isProduct(base) ? base : undefined;
}
