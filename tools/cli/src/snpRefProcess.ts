// For the tests: the CLI run as a user runs it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const bin = join(import.meta.dirname, '../bin/snp-ref.js');

/** Runs the CLI as a user would: a separate Node process, arguments and stdin, exit code and both streams. */
export function snpRef(args: readonly string[], input?: string, cwd?: string) {
  const run = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8', cwd });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** `snp-ref measure --mode snp` of an OVMF image (2 vCPUs of type EPYC-v4 unless told). */
export function measureOvmfArgs(ovmf: string, vcpus = 2, vcpuType = 'EPYC-v4'): string[] {
  return ['measure', '--mode', 'snp', '--vcpus', String(vcpus), '--vcpu-type', vcpuType, '--ovmf', ovmf];
}
