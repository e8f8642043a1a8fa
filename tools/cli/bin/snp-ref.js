#!/usr/bin/env node
// Runs the CLI from the bundle in dist/ (scripts/bundle-tool.mjs, run by `npm ci` and before
// packing): always where the TypeScript sources are absent (installed from the package), and in the
// repository while every source it was built from is unchanged; otherwise from the sources, compiled
// on the fly by tsx with a resolve hook for the workspace's source export condition. Same
// behaviour, the bundle only starts faster.
import { existsSync, readFileSync, statSync } from 'node:fs';

function bundleIsFresh() {
  try {
    const inputs = JSON.parse(readFileSync(new URL('../dist/inputs.json', import.meta.url), 'utf8'));
    return inputs.every(({ path, mtimeMs, size }) => {
      const now = statSync(path);
      return now.mtimeMs === mtimeMs && now.size === size;
    });
  } catch {
    return false;
  }
}

const sources = new URL('../src/bin.ts', import.meta.url);
if (!existsSync(sources) || (process.env.SNP_REF_FROM_SOURCE !== '1' && bundleIsFresh())) {
  await import('../dist/bin.js');
} else {
  const { register } = await import('node:module');
  const { register: registerTsx } = await import('tsx/esm/api');
  register('./source-condition.js', import.meta.url);
  registerTsx();
  await import(sources.href);
}
