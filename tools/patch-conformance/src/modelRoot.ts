// Which copy of the model snp-conform checks patches against: --root DIR; else the current
// directory when it is an snp-ref checkout; else the copy packed with snp-conform (model/, written
// by scripts/pack-model.mjs before packing), so that `snp-conform my.patch` works anywhere.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MODEL_PACKAGES } from './conform.js';
import { ConformInputError } from './input.js';

/** The packed copy: model/ of this package, beside src/ and dist/. */
const PACKED_MODEL = join(import.meta.dirname, '../model');

const holdsModel = (dir: string) => MODEL_PACKAGES.every((pkg) => existsSync(join(dir, pkg, 'src/index.ts')));

/**
 * The root directory of the model: `root` (--root) when given, else `cwd` when it holds the model's
 * packages, else the packed copy.
 * @throws ConformInputError when none of them applies (sources without a packed copy, run elsewhere).
 */
export function modelRoot(root: string | undefined, cwd = process.cwd(), packed = PACKED_MODEL): string {
  if (root !== undefined) return resolve(cwd, root);
  if (holdsModel(cwd)) return cwd;
  if (holdsModel(packed)) return packed;
  throw new ConformInputError(
    `${cwd} is not an snp-ref checkout: run snp-conform in one, or pass --root DIR (the snp-ref repository)`,
  );
}
