import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin } from './snpRefProcess.js';

const examples = join(import.meta.dirname, '../examples');
const scenarios = readdirSync(examples).filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'));

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
