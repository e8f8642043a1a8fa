// A user's install, end to end: `npm pack --workspaces`, the published tarballs installed offline
// into an empty project outside the repository, then both bins, every package entry imported from
// plain Node, and a strict `module: nodenext` consumer type-checked without skipLibCheck.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerProject, type Tarball } from './consumerLockfile.js';

const root = join(import.meta.dirname, '../../..');
/** Children's output as in a plain terminal: nx sets FORCE_COLOR. */
const { FORCE_COLOR: _, ...env } = process.env;

function run(cwd: string, command: string, ...args: string[]): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error !== undefined) throw result.error;
  return result;
}

function succeed(cwd: string, command: string, ...args: string[]): string {
  const { status, stdout, stderr } = run(cwd, command, ...args);
  if (status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${status}:\n${stderr}`);
  return stdout;
}

interface Packed extends Tarball {
  readonly manifest: Tarball['manifest'] & { readonly private?: boolean; readonly exports?: object };
  readonly files: readonly string[];
}

/** `npm pack --json`'s account of one tarball. */
interface PackReport {
  readonly filename: string;
  readonly integrity: string;
  readonly files: readonly { readonly path: string }[];
}

const workspaces = ['packages', 'tools'].flatMap((dir) =>
  readdirSync(join(root, dir)).map((name) =>
    JSON.parse(readFileSync(join(root, dir, name, 'package.json'), 'utf8')),
  ),
);
const published = workspaces.filter((w) => w.private !== true).map((w) => w.name as string);

const work = mkdtempSync(join(tmpdir(), 'snp-ref-pack-'));
const consumer = join(work, 'consumer');
const bin = (name: string) => join(consumer, 'node_modules/.bin', name);
let tarballs: Packed[] = [];
/** The tarballs of the published workspaces, which the consumer installs. */
let installed: Packed[] = [];

/** Every entry point of the installed packages, as a consumer names it. */
const entryPoints = () =>
  installed.flatMap(({ manifest }) =>
    Object.keys(manifest.exports ?? {})
      .filter((subpath) => subpath !== './package.json')
      .map((subpath) => manifest.name + subpath.slice(1)),
  );

beforeAll(() => {
  const reports: PackReport[] = JSON.parse(
    succeed(root, 'npm', 'pack', '--workspaces', '--json', '--pack-destination', work),
  );
  tarballs = reports.map((r) => {
    const file = join(work, r.filename);
    const manifest = JSON.parse(succeed(work, 'tar', '-xOzf', file, 'package/package.json'));
    return { manifest, file, integrity: r.integrity, files: r.files.map((f) => f.path) };
  });
  installed = tarballs.filter((t) => t.manifest.private !== true);
  const { packageJson, lockfile } = consumerProject(
    installed,
    JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages,
  );
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify(packageJson));
  writeFileSync(join(consumer, 'package-lock.json'), JSON.stringify(lockfile));
  succeed(consumer, 'npm', 'ci', '--prefer-offline', '--no-audit', '--no-fund');
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarballs, installed into an empty project', () => {
  it('are every published workspace, each with its LICENSE, its build and no sources', () => {
    expect(installed.map((t) => t.manifest.name).sort()).toEqual([...published].sort());
    for (const { manifest, files } of installed) {
      expect(files, manifest.name).toContain('LICENSE');
      expect(files.filter((f) => f.startsWith('dist/')).length, manifest.name).toBeGreaterThan(0);
      expect(
        files.filter((f) => f.startsWith('src/') || f.endsWith('.tsbuildinfo')),
        manifest.name,
      ).toEqual([]);
      expect(manifest.version, manifest.name).toBe('0.1.0');
    }
  });

  it('bring no TypeScript toolchain to run the bins', () => {
    expect(existsSync(join(consumer, 'node_modules/tsx'))).toBe(false);
    expect(existsSync(join(consumer, 'node_modules/typescript'))).toBe(false);
  });

  it('run snp-ref from its bundle', () => {
    expect(succeed(consumer, bin('snp-ref'), '--version')).toMatch(/^snp-ref\/0\.1\.0 /);
    const example = 'examples/02-same-page-two-guests';
    const result = succeed(consumer, bin('snp-ref'), 'run', `node_modules/@snp-ref/cli/${example}.json`);
    const expected = readFileSync(join(root, 'tools/cli', `${example}.expected.json`), 'utf8');
    expect(JSON.parse(result)).toEqual(JSON.parse(expected));
    // Each command's chunk, and cac for an error, are imported only when needed: from the tarball too.
    expect(succeed(consumer, bin('snp-ref'), '--help')).toMatch(/\n {2}measure +Compute a launch digest/);
    const refused = run(consumer, bin('snp-ref'), 'run', '--bogus');
    expect([refused.status, refused.stderr]).toEqual([2, 'snp-ref: Unknown option `--bogus`\n']);
  });

  it('run snp-conform on a patch outside any checkout, against the model it carries', () => {
    expect(succeed(consumer, bin('snp-conform'), '--version')).toBe('snp-conform 0.1.0\n');
    copyFileSync(join(root, 'patches/v4.patch'), join(consumer, 'my.patch'));
    const packed = run(consumer, bin('snp-conform'), '--format', 'json', 'my.patch');
    const source = join(root, 'tools/patch-conformance/bin/snp-conform.js');
    const repository = run(root, process.execPath, source, '--format', 'json', 'patches/v4.patch');
    expect([packed.status, repository.status]).toEqual([1, 1]);
    const findings = (json: string) =>
      (JSON.parse(json) as { findings: { rule: string; message: string; c?: { line: number } }[] }[]).flatMap(
        (report) => report.findings.map((f) => `${f.rule} ${f.c?.line}: ${f.message}`),
      );
    expect(findings(packed.stdout).length).toBeGreaterThan(0);
    expect(findings(packed.stdout)).toEqual(findings(repository.stdout));
  }, 300_000);

  it('import, every entry point of every package, from plain Node', () => {
    const entries = entryPoints();
    expect(entries).toContain('@snp-ref/psp-firmware/measure');
    const script = `for (const e of ${JSON.stringify(entries)}) console.log(e, Object.keys(await import(e)).length);`;
    const counts = succeed(consumer, process.execPath, '--input-type=module', '-e', script);
    for (const line of counts.trim().split('\n')) expect(Number(line.split(' ')[1]), line).toBeGreaterThan(0);
  });

  it('type-check in a strict module: nodenext consumer without skipLibCheck', () => {
    const entries = entryPoints();
    const code = entries.map((e, i) => `import * as m${i} from '${e}';`).join('\n');
    writeFileSync(
      join(consumer, 'index.ts'),
      `${code}\nexport const all = [${entries.map((_, i) => `m${i}`)}];\n`,
    );
    // What `tsc --init` writes for a Node project, made stricter.
    const compilerOptions = {
      module: 'nodenext',
      target: 'esnext',
      types: [],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      verbatimModuleSyntax: true,
      isolatedModules: true,
      noEmit: true,
    };
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['index.ts'] }));
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const { status, stdout } = run(consumer, process.execPath, tsc, '-p', '.');
    expect(stdout).toBe('');
    expect(status).toBe(0);
  });
});
