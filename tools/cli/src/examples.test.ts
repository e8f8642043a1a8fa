import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../bin/snp-ref.js');
const examples = join(import.meta.dirname, '../examples');
const scenarios = readdirSync(examples).filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'));

/** Runs the CLI as a user would: a separate Node process, arguments and stdin, exit code and both streams. */
export function snpRef(args: readonly string[], input?: string) {
  const run = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('the example scenarios, run through the snp-ref binary', () => {
  it('has at least six', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(6);
  });

  // The expected results are checked in; UPDATE_EXAMPLES=1 rewrites them (deliberately, then review the diff).
  it.each(scenarios)('%s gives its checked-in result', (file) => {
    const actual = execFileSync(process.execPath, [bin, 'run', join(examples, file)], { encoding: 'utf8' });
    const expectedFile = join(examples, file.replace(/\.json$/, '.expected.json'));
    if (process.env.UPDATE_EXAMPLES === '1') writeFileSync(expectedFile, actual);
    expect(JSON.parse(actual)).toEqual(JSON.parse(readFileSync(expectedFile, 'utf8')));
  });
});
