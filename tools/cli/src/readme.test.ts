import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vectorPath } from '../../../packages/attestation/test/vectors.js';
import { snpRef } from './snpRefRun.js';

/** The files the "My measurement is wrong" walkthrough names: a real Milan report, its VCEK, AMD's Milan chain. */
const REPORT_FILES: Readonly<Record<string, string>> = {
  'report.bin': 'go-sev-guest/attestation.bin',
  'vcek.der': 'go-sev-guest/vcek.testcer.der',
  'cert_chain.pem': 'go-sev-guest/ask_ark_milan.pem',
};

/** The README's console blocks: `$ snp-ref …` lines and what follows each up to the next command. */
function consoleBlocks(markdown: string): { command: string; output: string }[][] {
  return [...markdown.matchAll(/```console\n([\s\S]*?)```/g)].map(([, body]) => {
    const runs: { command: string; output: string[] }[] = [];
    for (const line of (body ?? '').split('\n')) {
      if (line.startsWith('# ')) continue;
      if (line.startsWith('$ ')) runs.push({ command: line.slice(2), output: [] });
      else runs.at(-1)?.output.push(line);
    }
    return runs.map((r) => ({ command: r.command, output: r.output.join('\n') }));
  });
}

/** Splits a command line into arguments; single quotes group. */
const argv = (command: string) => [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');

describe('tools/cli/README.md', () => {
  const blocks = consoleBlocks(readFileSync(join(import.meta.dirname, '../README.md'), 'utf8'));

  it.each(blocks.map((b, i) => [i, b] as const))('console block %i prints what it shows', async (_, runs) => {
    const cwd = mkdtempSync(join(tmpdir(), 'snp-ref-readme-'));
    for (const [name, vector] of Object.entries(REPORT_FILES))
      copyFileSync(vectorPath(vector), join(cwd, name));
    for (const { command, output } of runs) {
      const [program, ...args] = argv(command);
      expect(program).toBe('snp-ref');
      expect((await snpRef(args, { cwd })).stdout, command).toBe(`${output.trimEnd()}\n`);
    }
  });
});
