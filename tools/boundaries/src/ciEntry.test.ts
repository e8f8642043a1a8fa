// The CI entry point (.ci/run): a clean install, then exactly the README's test command, with nx's
// cache skipped. nx 23 keeps its cache in ~/.nx, shared by every checkout on a machine, so without
// NX_SKIP_NX_CACHE a fresh clone replays results another checkout cached (nx.dev, "Environment
// Variables"); `npm test` for contributors keeps the cache.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '../../..');
const commands = (script: string) =>
  script
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !/^(set|cd) /.test(line));

describe('.ci/run', () => {
  it("installs from the lockfile, then runs the README's test command with every nx task run afresh", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const testCommand = /```sh\n(npm test)\n```/.exec(readme)?.[1];

    expect(testCommand).toBe('npm test');
    expect(commands(readFileSync(join(repoRoot, '.ci/run'), 'utf8'))).toEqual([
      'npm ci',
      `NX_SKIP_NX_CACHE=true ${testCommand}`,
    ]);
  });

  it("leaves contributors' npm test with the cache", () => {
    const { scripts } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));

    expect(scripts.test).toContain('nx run-many');
    expect(scripts.test).not.toContain('NX_SKIP_NX_CACHE');
  });
});
