import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { snpRefProcess } from './snpRefProcess.js';

interface HostileCase {
  name: string;
  args: string[];
  stdin?: string;
  files?: Record<string, { zeros: number } | string>;
  stderr: string;
}
const corpus = JSON.parse(readFileSync(join(import.meta.dirname, '../test/hostile/cases.json'), 'utf8')) as {
  cases: HostileCase[];
};

describe('hostile input (test/hostile/cases.json): exit 2, a clear message, no stack trace, no hang', () => {
  it.each(corpus.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const dir = mkdtempSync(join(tmpdir(), 'snp-ref-hostile-'));
    for (const [name, content] of Object.entries(c.files ?? {}))
      writeFileSync(join(dir, name), typeof content === 'string' ? content : new Uint8Array(content.zeros));
    const run = snpRefProcess(
      c.args.map((a) => a.replaceAll('{dir}', dir)),
      c.stdin ?? '',
    );
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toMatch(new RegExp(c.stderr));
    expect(run.stderr).not.toMatch(/\n\s+at |internal error/);
  });
});
