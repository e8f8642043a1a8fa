import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { snpRef } from './snpRefRun.js';

const examples = join(import.meta.dirname, '../examples');
const scenarios = readdirSync(examples).filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'));

describe('the example scenarios, run through snp-ref', () => {
  it('has at least six', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(6);
  });

  // The expected results are checked in; UPDATE_EXAMPLES=1 rewrites them (deliberately, then review the diff).
  it.each(scenarios)('%s gives its checked-in result', async (file) => {
    const { status, stdout: actual } = await snpRef(['run', join(examples, file)]);
    expect(status).toBe(0);
    const expectedFile = join(examples, file.replace(/\.json$/, '.expected.json'));
    if (process.env.UPDATE_EXAMPLES === '1') writeFileSync(expectedFile, actual);
    expect(JSON.parse(actual)).toEqual(JSON.parse(readFileSync(expectedFile, 'utf8')));
  });
});
