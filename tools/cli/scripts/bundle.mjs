// Bundles the CLI and the workspace packages it uses into dist/ (npm packages stay external), so
// `snp-ref` starts as plain JavaScript instead of compiling TypeScript on every run. bin/snp-ref.js
// uses the bundle only while every source it was built from is unchanged (dist/inputs.json).
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(cli, '../..');
const outdir = join(cli, 'dist');

// A fresh directory: chunks of an earlier build (or an entry point since renamed) must not linger.
rmSync(outdir, { recursive: true, force: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: [join(cli, 'src/bin.ts')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  conditions: ['@snp-ref/source'],
  // Workspace packages are bundled from their sources; everything from npm is imported as is.
  plugins: [
    {
      name: 'npm-external',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@snp-ref/') || args.path.startsWith('node:')
            ? undefined
            : { path: args.path, external: true },
        );
      },
    },
  ],
  metafile: true,
  logLevel: 'warning',
});

const inputs = Object.keys(result.metafile.inputs).map((file) => {
  const path = resolve(root, file);
  const { mtimeMs, size } = statSync(path);
  return { path, mtimeMs, size };
});
writeFileSync(join(outdir, 'inputs.json'), `${JSON.stringify(inputs)}\n`);
