import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MODEL_PACKAGES } from './conform.js';
import { ConformInputError } from './input.js';
import { modelRoot } from './modelRoot.js';

const work = mkdtempSync(join(tmpdir(), 'snp-conform-root-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A directory laid out as a checkout (or the packed copy): the model packages' entry points. */
function modelAt(name: string): string {
  const dir = join(work, name);
  for (const pkg of MODEL_PACKAGES) {
    mkdirSync(join(dir, pkg, 'src'), { recursive: true });
    writeFileSync(join(dir, pkg, 'src/index.ts'), '');
  }
  return dir;
}

describe('the model snp-conform checks against', () => {
  const checkout = modelAt('checkout');
  const packed = modelAt('packed');
  const elsewhere = join(work, 'elsewhere');
  mkdirSync(elsewhere);

  it('is --root DIR when given, wherever snp-conform runs', () => {
    expect(modelRoot('checkout', work, packed)).toBe(checkout);
  });

  it('is the current directory when it is a checkout', () => {
    expect(modelRoot(undefined, checkout, packed)).toBe(checkout);
  });

  it('is the packed copy anywhere else', () => {
    expect(modelRoot(undefined, elsewhere, packed)).toBe(packed);
  });

  it('is an input error (exit 2) outside a checkout with no packed copy', () => {
    expect(() => modelRoot(undefined, elsewhere, join(work, 'none'))).toThrow(ConformInputError);
    expect(() => modelRoot(undefined, elsewhere, join(work, 'none'))).toThrow(/is not an snp-ref checkout/);
  });
});
