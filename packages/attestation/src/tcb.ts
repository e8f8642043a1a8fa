// TCB_VERSION: one 64-bit value, split into security patch levels differently per generation.
import type { Product } from './product.js';

/** A TCB_VERSION split into its security patch levels (SPLs). */
export interface TcbParts {
  /** Turin and later only. */
  readonly fmc?: number;
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
}

/** The parts of a TCB_VERSION, by the names {@link TcbParts} uses. */
export const TCB_PART_NAMES = ['fmc', 'bootloader', 'tee', 'snp', 'microcode'] as const;
/** One of {@link TCB_PART_NAMES}. */
export type TcbPartName = (typeof TCB_PART_NAMES)[number];

/**
 * The byte of each part (virtee/sev src/firmware/host/types/snp.rs TcbVersion): Milan and Genoa,
 * from_legacy_bytes: boot loader 0, TEE 1, SNP 6, microcode 7; Turin, from_turin_bytes: FMC 0,
 * boot loader 1, TEE 2, SNP 3, microcode 7. The other bytes are reserved.
 */
const TCB_BYTES: Readonly<Record<'legacy' | 'turin', Partial<Record<TcbPartName, number>>>> = {
  legacy: { bootloader: 0, tee: 1, snp: 6, microcode: 7 },
  turin: { fmc: 0, bootloader: 1, tee: 2, snp: 3, microcode: 7 },
};

const byteLayout = (product: Product | undefined) => TCB_BYTES[product === 'Turin' ? 'turin' : 'legacy'];

/** The parts of a TCB_VERSION for a generation (Milan's layout when the generation is not known). */
export function decodeTcb(tcb: bigint, product: Product | undefined): TcbParts {
  const layout = byteLayout(product);
  const part = (name: TcbPartName) => {
    const at = layout[name];
    return at === undefined ? undefined : Number((tcb >> BigInt(8 * at)) & 0xffn);
  };
  const fmc = part('fmc');
  return {
    ...(fmc === undefined ? {} : { fmc }),
    bootloader: part('bootloader') ?? 0,
    tee: part('tee') ?? 0,
    snp: part('snp') ?? 0,
    microcode: part('microcode') ?? 0,
  };
}

/** The parts as a TCB_VERSION value. */
export function encodeTcb(parts: TcbParts, product: Product | undefined): bigint {
  let tcb = 0n;
  for (const [name, at] of Object.entries(byteLayout(product)) as [TcbPartName, number][])
    tcb |= BigInt(parts[name] ?? 0) << BigInt(8 * at);
  return tcb;
}

/** "bl 2, tee 0, snp 5, ucode 68" (with "fmc N" first on Turin). */
export function formatTcb(parts: TcbParts): string {
  const fmc = parts.fmc === undefined ? '' : `fmc ${parts.fmc}, `;
  return `${fmc}bl ${parts.bootloader}, tee ${parts.tee}, snp ${parts.snp}, ucode ${parts.microcode}`;
}
