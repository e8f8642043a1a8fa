import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure } from '../figure.js';

const ROOT = join(import.meta.dirname, '../../../..');
/** Issue 15: cold `npx snp-conform patches/*.patch`, failure-path walk included, under 15 s on 2 cores. */
const TARGET_SECONDS = 15;

/** Wall-clock seconds of one process, start to exit (exit 1, findings, is expected). */
function seconds(command: string, args: readonly string[]): number {
  const start = process.hrtime.bigint();
  try {
    execFileSync(command, args, { cwd: ROOT, stdio: 'ignore' });
  } catch (error) {
    if ((error as { status?: number }).status !== 1) throw error;
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** The failure paths the dynamic rule walks for a patch of this flavour: every scenario's runs that inject one failure. */
function failurePaths(flavour: 'reviewed' | 'upstream'): number {
  const scenarios = join(ROOT, 'tools/patch-conformance/src/dynamic/scenarios.ts');
  const count = `const s = await import(${JSON.stringify(scenarios)}); const runs = s.dynamicRuns(${JSON.stringify(ROOT)}, ${JSON.stringify(flavour)}); console.log(runs.filter((r) => r.path !== undefined).length);`;
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=@snp-ref/source', '--input-type=module', '-e', count],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return Number(out.trim());
}

/**
 * snp-conform on every patch, cold (one process, as CI runs it): static rules, the harness builds
 * and every scenario with its failure paths on both sides. Reference: a bare node start in the same run.
 */
export async function conformFigures(): Promise<Figure[]> {
  const patches = readdirSync(join(ROOT, 'patches'))
    .filter((f) => f.endsWith('.patch'))
    .map((f) => join('patches', f));
  const node = { name: 'node -e 0', value: seconds(process.execPath, ['-e', '0']) };
  const paths = `${failurePaths('reviewed')} failure paths for a reviewed or v4 patch, ${failurePaths('upstream')} for upstream`;
  return [
    {
      name: `npx snp-conform patches/*.patch (${patches.length} patches; ${paths})`,
      value: seconds('npx', ['snp-conform', ...patches]),
      unit: 's',
      reference: node,
      target: { max: TARGET_SECONDS },
    },
  ];
}
