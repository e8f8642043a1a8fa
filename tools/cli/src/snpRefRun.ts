// For the tests: snp-ref run in this process, through run() with its streams captured.
import { run } from './main.js';

export interface RunOptions {
  /** What the command reads as stdin (default: nothing). */
  readonly stdin?: string | Uint8Array;
  /** The working directory (default: this process's). */
  readonly cwd?: string;
  /** Whether stderr is a terminal (default: no). */
  readonly tty?: boolean;
}

/** Runs snp-ref with these arguments as the binary would; the exit code and what it wrote. */
export async function snpRef(
  args: readonly string[],
  { stdin = '', cwd = process.cwd(), tty = false }: RunOptions = {},
) {
  let stdout = '';
  let stderr = '';
  const status = await run(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    readStdin: () => Buffer.from(stdin).toString('utf8'),
    readStdinBytes: () => Buffer.from(stdin),
    cwd,
    stderrIsTTY: tty,
  });
  return { status, stdout, stderr };
}

/** `snp-ref measure --mode snp` of an OVMF image (2 vCPUs of type EPYC-v4 unless told). */
export function measureOvmfArgs(ovmf: string, vcpus = 2, vcpuType = 'EPYC-v4'): string[] {
  return ['measure', '--mode', 'snp', '--vcpus', String(vcpus), '--vcpu-type', vcpuType, '--ovmf', ovmf];
}
