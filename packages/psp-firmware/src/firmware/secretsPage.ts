import { PAGE_SIZE } from '@snp-ref/rmp-core';
import { copyBytes } from '../bytes.js';

/** The SNP secrets page (struct snp_secrets_page, arch/x86/include/asm/sev.h; docs/spec-notes.md §5.4). */
export const SecretsPage = {
  VERSION: 0x00,
  IMIEN: 0x04,
  FMS: 0x08,
  GOSVW: 0x10,
  VMPCK0: 0x20,
  VMPCK_BYTES: 32,
  OS_AREA: 0xa0,
  VMSA_TWEAK_BITMAP: 0x100,
  TSC_FACTOR: 0x160,
} as const;
/** The version firmware 1.55 writes (AMD-ASPFW SNP_LAUNCH_UPDATE_SECRETS_PAGE_VERSION). */
export const SECRETS_PAGE_VERSION = 3;

export interface SecretsPageFields {
  readonly imiEnabled: boolean;
  /** CPUID Fn0000_0001_EAX (family, model, stepping) of the platform. */
  readonly fms: number;
  /** Guest OS-visible workarounds, 16 bytes from LAUNCH_START. */
  readonly gosvw: Uint8Array;
  /** The four VM platform communication keys, 32 bytes each. */
  readonly vmpcks: readonly Uint8Array[];
  /** Secure TSC scaling factor (Genoa: 200, AMD-ASPFW). */
  readonly tscFactor: number;
}

/**
 * The page LAUNCH_UPDATE(SECRETS) writes (AMD-ASPFW snp_launch_update_secrets_page_t): the page is
 * zeroed, then these fields set; the OS area, the VMSA tweak bitmap (no tweak) and SVSM fields stay zero.
 */
export function buildSecretsPage(fields: SecretsPageFields): Buffer {
  const page = Buffer.alloc(PAGE_SIZE);
  page.writeUInt32LE(SECRETS_PAGE_VERSION, SecretsPage.VERSION);
  page.writeUInt32LE(fields.imiEnabled ? 1 : 0, SecretsPage.IMIEN);
  page.writeUInt32LE(fields.fms, SecretsPage.FMS);
  page.set(fields.gosvw, SecretsPage.GOSVW);
  for (const [i, key] of fields.vmpcks.entries())
    page.set(key, SecretsPage.VMPCK0 + i * SecretsPage.VMPCK_BYTES);
  page.writeUInt32LE(fields.tscFactor, SecretsPage.TSC_FACTOR);
  return page;
}

/** VMPCK n as the guest finds it in its secrets page. */
export function vmpckOf(secretsPage: Uint8Array, n: 0 | 1 | 2 | 3): Uint8Array {
  const at = SecretsPage.VMPCK0 + n * SecretsPage.VMPCK_BYTES;
  return copyBytes(secretsPage, at, at + SecretsPage.VMPCK_BYTES);
}
