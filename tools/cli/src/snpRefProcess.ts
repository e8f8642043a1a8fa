// For the tests that need a real process (the bin and its bundle, determinism, hostile input).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const bin = join(import.meta.dirname, '../bin/snp-ref.js');

/** Runs the CLI as a user would: a separate Node process, arguments and stdin, exit code and both streams. */
export function snpRefProcess(args: readonly string[], input?: string) {
  const run = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
