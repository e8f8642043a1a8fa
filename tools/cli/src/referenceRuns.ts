// For the tests: sev-snp-measure's recorded runs (test/reference-runs*.json, written by
// scripts/reference-runs.ts) replayed through `snp-ref measure`.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { expand } from '../scripts/reference-runs.js';
import { snpRef } from './snpRefRun.js';

export interface ReferenceRun {
  readonly args: readonly string[];
  readonly rc: number;
  readonly stdout: string;
  /** The last line sev-snp-measure printed on stderr, when it failed. */
  readonly stderr?: string;
  /** SHA-256 of each vmsa<N>.bin it wrote (--dump-vmsa). */
  readonly dumped?: Readonly<Record<string, string>>;
}

export interface ReferenceRuns<R extends ReferenceRun = ReferenceRun> {
  readonly files: Readonly<Record<string, string>>;
  readonly substitutions: Readonly<Record<string, string>>;
  readonly runs: readonly R[];
}

export const readReferenceRuns = <R extends ReferenceRun = ReferenceRun>(file: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../test', file), 'utf8')) as ReferenceRuns<R>;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The SHA-256 of each named file, to check a test runs on the files the reference ran on. */
export const sha256Files = (files: Readonly<Record<string, string>>, names: readonly string[]) =>
  Object.fromEntries(names.map((name) => [name, sha256(readFileSync(files[name] ?? name))]));

/**
 * sev-snp-measure's error as its message alone: without "Error: " (a RuntimeError), argparse's
 * "sev-snp-measure: error: " or a Python exception's name (a traceback's last line).
 */
const messageOf = (stderr: string) => stderr.replace(/^(?:Error: |sev-snp-measure: error: |\w+Error: )/, '');

/**
 * Runs the reference's command line through snp-ref in a fresh directory: the same stdout and
 * VMSA files where it succeeded; where it failed, exit 2 with its message (or `reworded`'s, where
 * snp-ref words it otherwise) and no stack trace.
 */
export async function expectSameAsReference(
  run: ReferenceRun,
  files: Readonly<Record<string, string>>,
  reworded: Readonly<Record<string, RegExp>> = {},
): Promise<void> {
  const cwd = mkdtempSync(join(tmpdir(), 'snp-ref-replay-'));
  const ours = await snpRef(['measure', ...expand(run.args, files)], { cwd });
  if (run.rc === 0) {
    expect(ours).toMatchObject({ status: 0, stdout: run.stdout });
    const written = Object.fromEntries(readdirSync(cwd).map((f) => [f, sha256(readFileSync(join(cwd, f)))]));
    expect(written).toEqual(run.dumped ?? {});
    return;
  }
  expect(ours.status).toBe(2);
  const message = messageOf(run.stderr ?? '');
  expect(ours.stderr).toMatch(reworded[message] ?? message);
  expect(ours.stderr).not.toMatch(/\n\s+at /);
}
