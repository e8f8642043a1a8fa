// The C side of the dynamic rule: the patch's C, screened (screen.ts), compiled against the shims
// and run on a scenario inside the sandbox of shim/sandbox.h, with limits on time and output.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CModel } from '../c/cModel.js';
import type { Location } from '../input.js';
import { assemble } from './assemble.js';
import { screenC } from './screen.js';

const SHIM = join(import.meta.dirname, '../../shim');
/** Limits: the compiler's wall time and output bytes; the harness's wall time (its CPU second is set inside it) and output bytes per run. */
const COMPILE_MS = 60_000;
const RUN_MS = 10_000;
const OUTPUT_BYTES = 1 << 20;
export const RUN_OUTPUT_BYTES = 64 << 10;
/** shim/sandbox.h SNP_SANDBOX_UNAVAILABLE. */
const SANDBOX_UNAVAILABLE = 97;

/** Why the harness could not be built, located in the patch where the cause is. */
export interface BuildProblem {
  readonly rule: 'harness-refused' | 'harness-build';
  readonly message: string;
  readonly at?: Location;
}

/** How a harness process stopped before finishing its runs. */
export type Stop =
  | { readonly kind: 'timeout' | 'sandbox' | 'output' | 'unavailable' }
  | { readonly kind: 'crash'; readonly signal: string }
  | { readonly kind: 'error'; readonly detail: string };

/** What one harness process printed for each run it finished, and how it stopped if it did not finish them all. */
export interface Batch {
  readonly outputs: readonly (readonly string[])[];
  readonly stop?: Stop;
}

export interface Harness {
  /** Runs each input in turn in one process, `reset` between them (shim/harness.c). */
  run(inputs: readonly (readonly string[])[]): Batch;
  /** Removes the build directory. */
  dispose(): void;
}

/** Screens and compiles the patch's C; the harness, or every reason it cannot be built. */
export function buildHarness(c: CModel): { harness: Harness } | { problems: BuildProblem[] } {
  const patchLines = c.patch.files.flatMap((f) => f.patchLines);
  const at = (line: number): Location => ({ file: c.patch.file, line: patchLines[line] ?? 0 });
  const screened = screenC(c.patch.files.map((f) => f.code).join('\n'));
  if (screened.refusals.length > 0)
    return {
      problems: screened.refusals.map((r) => ({
        rule: 'harness-refused',
        message: `not compiled: ${r.reason}`,
        at: at(r.line),
      })),
    };
  const dir = mkdtempSync(join(tmpdir(), 'snp-conform-'));
  const source = join(dir, 'patch.c');
  const binary = join(dir, 'harness');
  writeFileSync(source, assemble(screened.code, source));
  const flavour = c.patch.flavour === 'v4' ? ['-DSNP_FLAVOUR_V4'] : [];
  const cc = spawnSync(
    'cc',
    [
      '-std=gnu11',
      '-O1',
      // Warnings are the patch author's business; an undeclared function must stop the build here,
      // with its line, rather than at link time without one.
      '-Werror=implicit-function-declaration',
      `-I${SHIM}`,
      ...flavour,
      `-DPATCH_C="${source}"`,
      '-o',
      binary,
      join(SHIM, 'harness.c'),
    ],
    {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
      encoding: 'utf8',
      timeout: COMPILE_MS,
      killSignal: 'SIGKILL',
      maxBuffer: OUTPUT_BYTES,
    },
  );
  if (cc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    const timedOut = cc.error !== undefined && 'code' in cc.error && cc.error.code === 'ETIMEDOUT';
    const cause = timedOut
      ? { message: `the compiler did not finish within ${COMPILE_MS / 1000} s` }
      : compilerCause(cc.error === undefined ? (cc.stderr ?? '') : String(cc.error), source, at);
    return { problems: [{ rule: 'harness-build', ...cause }] };
  }
  return {
    harness: {
      run: (inputs) => runHarness(binary, inputs),
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    },
  };
}

/** The first error the compiler or linker gave, in words, located in the patch when it is there. */
function compilerCause(
  stderr: string,
  source: string,
  at: (line: number) => Location,
): { message: string; at?: Location } {
  const error = /^(.*?):(\d+):\d+: (?:fatal )?error: (.*)$/m.exec(stderr);
  const link = /undefined reference to [`'](\w+)'/.exec(stderr);
  if (error === null)
    return link === null
      ? { message: 'the harness does not build (no compiler message)' }
      : { message: `${link[1]} is used but neither the patch nor the shim defines it` };
  const [, file, line, text = ''] = error;
  const where = file === source ? { at: at(Number(line) - 1) } : {};
  const name = /'(?:struct )?([\w ]+)'/.exec(text)?.[1];
  if (/undeclared|implicit declaration/.test(text))
    return { message: `${name} is used but neither the patch nor the shim declares it`, ...where };
  if (/incomplete type|undefined type|storage size of .* isn't known/.test(text))
    return { message: `a struct is used before its definition (${text})`, ...where };
  return { message: `the C does not compile: ${text}`, ...where };
}

function runHarness(binary: string, inputs: readonly (readonly string[])[]): Batch {
  const run = spawnSync(binary, [], {
    input: `${inputs.map((lines) => lines.join('\n')).join('\nreset\n')}\n`,
    // No environment: what the patch's code could print of its own memory holds nothing of the user's.
    env: {},
    encoding: 'utf8',
    timeout: RUN_MS,
    killSignal: 'SIGKILL',
    maxBuffer: RUN_OUTPUT_BYTES * inputs.length,
  });
  // The harness flushes after each run's `end` line, so what a stopped process finished is kept.
  const outputs: string[][] = [[]];
  for (const line of (run.stdout ?? '').split('\n'))
    if (line === 'end') outputs.push([]);
    else if (line !== '') outputs.at(-1)?.push(line);
  outputs.pop();
  const stop = stopOf(run);
  return stop === undefined ? { outputs } : { outputs, stop };
}

function stopOf(run: ReturnType<typeof spawnSync>): Stop | undefined {
  const code = run.error !== undefined && 'code' in run.error ? run.error.code : undefined;
  if (code === 'ETIMEDOUT' || run.signal === 'SIGXCPU') return { kind: 'timeout' };
  if (code === 'ENOBUFS') return { kind: 'output' };
  // Seccomp strict mode answers a forbidden system call with SIGKILL.
  if (run.signal === 'SIGKILL') return { kind: 'sandbox' };
  if (run.signal !== null) return { kind: 'crash', signal: run.signal };
  if (run.status === SANDBOX_UNAVAILABLE) return { kind: 'unavailable' };
  if (run.status !== 0 || run.error !== undefined)
    return {
      kind: 'error',
      detail: (String(run.stderr ?? '') || String(run.error ?? `exit ${run.status}`)).trim(),
    };
  return undefined;
}
