// Test vectors the repository does not carry (real attestation reports with their certificates,
// sev-snp-measure's own fixtures): a figure that needs them reads them from the folder
// SNP_REF_VECTORS names, and is skipped, saying so, without it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** `sub` of the SNP_REF_VECTORS folder, or undefined (with a warning naming `figure`) if it is not there. */
export function vectorsDir(sub: string, figure: string): string | undefined {
  const root = process.env.SNP_REF_VECTORS;
  const dir = root === undefined ? undefined : join(root, sub);
  if (dir !== undefined && existsSync(dir)) return dir;
  console.warn(`${figure} skipped: set SNP_REF_VECTORS to the test vectors folder (it holds ${sub}/)`);
  return undefined;
}
