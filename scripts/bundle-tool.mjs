// Bundles a tool (tools/cli, tools/patch-conformance) and the workspace packages it uses into its
// dist/, so its bin starts as plain JavaScript, in the repository and installed from its tarball.
// npm packages stay external: each must be in the tool's "dependencies", or the build fails (the
// tarball would not run). The bin uses the bundle while every source it was built from is
// unchanged (dist/inputs.json), and always where the sources are absent (installed). The bundle is
// built beside dist/ and swapped in whole, so a bin started meanwhile (a test, while the package is
// packed) runs the old bundle or the new one, never half of one.
//
//   node scripts/bundle-tool.mjs TOOL_DIR ENTRY     e.g. tools/cli src/bin.ts
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const [toolArg, entry] = process.argv.slice(2);
if (toolArg === undefined || entry === undefined) {
  process.stderr.write('usage: node scripts/bundle-tool.mjs TOOL_DIR ENTRY\n');
  process.exit(2);
}
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tool = resolve(toolArg);
const outdir = join(tool, 'dist');
// Fresh directories: chunks of an earlier build (or an entry point since renamed) must not linger.
const next = `${outdir}.next-${process.pid}`;
const old = `${outdir}.old-${process.pid}`;
const declared = JSON.parse(readFileSync(join(tool, 'package.json'), 'utf8')).dependencies ?? {};

/** The npm package a bare import names: `a` of `a/b`, `@s/a` of `@s/a/b`. */
const packageOf = (path) =>
  path
    .split('/')
    .slice(0, path.startsWith('@') ? 2 : 1)
    .join('/');

const result = await build({
  absWorkingDir: root,
  entryPoints: [join(tool, entry)],
  outdir: next,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  conditions: ['@snp-ref/source'],
  plugins: [
    {
      // Workspace packages are bundled from their sources; everything from npm is imported as is.
      name: 'npm-external',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@snp-ref/') || args.path.startsWith('node:')
            ? undefined
            : { path: args.path, external: true },
        );
      },
    },
    {
      // `import.meta.dirname` keeps meaning the source file's directory (a tool finds its shim/ or
      // scenarios/ from it): the bundle's directory joined with the source's path from there.
      name: 'source-dirname',
      setup(b) {
        b.onLoad({ filter: /\.ts$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          if (!text.includes('import.meta.dirname')) return undefined;
          const from = JSON.stringify(`/${relative(outdir, dirname(args.path))}`);
          return {
            contents: text.replaceAll('import.meta.dirname', `(import.meta.dirname + ${from})`),
            loader: 'ts',
          };
        });
      },
    },
  ],
  metafile: true,
  logLevel: 'warning',
});

const undeclared = [
  ...new Set(
    Object.values(result.metafile.outputs)
      .flatMap((output) => output.imports)
      .filter((i) => i.external && !i.path.startsWith('node:'))
      .map((i) => packageOf(i.path))
      .filter((name) => declared[name] === undefined),
  ),
];
if (undeclared.length > 0) {
  process.stderr.write(
    `${relative(root, tool)}/package.json: add to "dependencies": ${undeclared.join(', ')}\n`,
  );
  rmSync(next, { recursive: true, force: true });
  process.exit(1);
}

const inputs = Object.keys(result.metafile.inputs).map((file) => {
  const path = resolve(root, file);
  const { mtimeMs, size } = statSync(path);
  return { path, mtimeMs, size };
});
writeFileSync(join(next, 'inputs.json'), `${JSON.stringify(inputs)}\n`);
if (existsSync(outdir)) renameSync(outdir, old);
renameSync(next, outdir);
rmSync(old, { recursive: true, force: true });
