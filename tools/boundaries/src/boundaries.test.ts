import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '../../..');
const fixtures = resolve(import.meta.dirname, '../fixtures');
const tsConfigFile = join(repoRoot, 'tsconfig.base.json');

// The same rules and options `npm run boundaries` uses. The config names its tsconfig relative to the
// repo root (where the CLI runs); vitest runs elsewhere, so pin it to an absolute path.
const options = {
  ...(await extractDepcruiseOptions(join(repoRoot, '.dependency-cruiser.cjs'))),
  tsConfig: { fileName: tsConfigFile },
};
const transpileOptions = { tsConfig: extractTSConfig(tsConfigFile) };

/**
 * Cruises `packages` and `tools` under `baseDir` as if it were the repo root (the rules are anchored at
 * `^packages/` and `^tools/`) and returns each violation as "rule: from → to".
 */
async function violations(baseDir: string): Promise<string[]> {
  const roots = ['packages', 'tools'].filter((dir) => existsSync(join(baseDir, dir)));
  const { output } = await cruise(roots, { ...options, baseDir }, {}, transpileOptions);
  if (typeof output === 'string') throw new Error('expected a cruise result object, got a report string');
  expect(output.summary.totalCruised).toBeGreaterThan(0);
  return output.summary.violations.map(({ rule, from, to }) => `${rule.name}: ${from} → ${to}`).sort();
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Copies a fixture to a temp dir and links node_modules/@snp-ref/<name> to packages/<name>, as
 * `npm install` does for workspaces. node_modules is gitignored, so the links can't live in the fixture.
 */
function withWorkspaceLinks(fixture: string): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'snp-ref-boundaries-')));
  tempDirs.push(root);
  cpSync(fixture, root, { recursive: true });
  mkdirSync(join(root, 'node_modules/@snp-ref'), { recursive: true });
  for (const name of readdirSync(join(root, 'packages'))) {
    symlinkSync(join(root, 'packages', name), join(root, 'node_modules/@snp-ref', name), 'dir');
  }
  return root;
}

describe('the boundaries check', () => {
  it('accepts every edge ARCHITECTURE.md allows', async () => {
    expect(await violations(join(fixtures, 'allowed'))).toEqual([]);
  });

  it.each([
    {
      fixture: 'rmp-core-imports-kvm-svm',
      expected: ['rmp-core-is-the-base: packages/rmp-core/src/index.ts → packages/kvm-svm/src/index.ts'],
    },
    {
      fixture: 'psp-firmware-imports-kvm-svm',
      expected: [
        'psp-firmware-sits-on-rmp-core: packages/psp-firmware/src/index.ts → packages/kvm-svm/src/index.ts',
      ],
    },
    {
      fixture: 'attestation-imports-kvm-svm',
      expected: [
        'attestation-sits-on-firmware: packages/attestation/src/index.ts → packages/kvm-svm/src/index.ts',
      ],
    },
    {
      fixture: 'kvm-svm-imports-guest',
      expected: [
        'kvm-svm-sits-on-firmware-and-rmp: packages/kvm-svm/src/index.ts → packages/guest/src/index.ts',
      ],
    },
    {
      fixture: 'guest-imports-kvm-svm',
      expected: [
        'guest-sees-rmp-and-report-format: packages/guest/src/index.ts → packages/kvm-svm/src/index.ts',
      ],
    },
    {
      fixture: 'kvm-svm-imports-scenario',
      expected: [
        'kvm-svm-sits-on-firmware-and-rmp: packages/kvm-svm/src/index.ts → packages/scenario/src/index.ts',
      ],
    },
    {
      fixture: 'scenario-imports-a-package-above',
      expected: [
        'scenario-sits-on-kvm-and-guest: packages/scenario/src/index.ts → packages/verifier/src/index.ts',
      ],
    },
    {
      fixture: 'package-imports-tool',
      expected: ['nothing-imports-a-tool: packages/guest/src/index.ts → tools/cli/src/main.ts'],
    },
    {
      fixture: 'tool-imports-tool',
      expected: ['nothing-imports-a-tool: tools/cli/src/main.ts → tools/patch-conformance/src/main.ts'],
    },
    {
      fixture: 'cycle',
      // dependency-cruiser reports a cycle once, at the edge where it first meets it.
      expected: ['no-cycles: packages/rmp-core/src/a.ts → packages/rmp-core/src/b.ts'],
    },
    {
      fixture: 'unresolvable-npm-import',
      expected: ['declared-dependencies-only: packages/rmp-core/src/index.ts → not-an-installed-package'],
    },
  ])('rejects $fixture', async ({ fixture, expected }) => {
    expect(await violations(join(fixtures, 'forbidden', fixture))).toEqual(expected);
  });

  // Bare '@snp-ref/…' specifiers resolve through the '@snp-ref/source' export condition to
  // packages/<name>/src, so the graph rules judge them like relative imports: psp-firmware → rmp-core
  // passes (declared-dependencies-only must not misfire on it) and rmp-core → kvm-svm is caught.
  it('judges bare @snp-ref/* imports by the package they resolve to', async () => {
    expect(await violations(withWorkspaceLinks(join(fixtures, 'forbidden', 'workspace-imports')))).toEqual([
      'rmp-core-is-the-base: packages/rmp-core/src/index.ts → packages/kvm-svm/src/index.ts',
    ]);
  });

  // The fixtures are excluded by the config, so this is exactly what `npm run boundaries` checks.
  it('finds no violation in the real packages and tools', async () => {
    expect(await violations(repoRoot)).toEqual([]);
  }, 60_000);
});
