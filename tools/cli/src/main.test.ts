import { describe, expect, it } from 'vitest';
import { run } from './main.js';
import { snpRef } from './snpRefRun.js';

describe(run, () => {
  it('runs every command --help lists under the name it lists', async () => {
    const help = (await snpRef(['--help'])).stdout;
    const names = [...help.matchAll(/^ {2}\$ snp-ref (\S+) --help$/gm)].map((m) => m[1]);
    expect(names).toContain('measure');
    for (const name of names) {
      const { status, stdout } = await snpRef([name ?? '', '--help']);
      expect({ name, status }).toEqual({ name, status: 0 });
      expect(stdout).toContain(`Usage:\n  $ snp-ref ${name}`);
    }
  });
});
