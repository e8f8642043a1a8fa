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
  const lines = c.files.flatMap((f) => f.lines);
  const at = (line: number): Location => lines[line] ?? { file: c.patch.file, line: 0 };
  const screened = screenC(c.files.map((f) => f.code).join('\n'));
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
  const object = join(dir, 'harness.o');
  const binary = join(dir, 'harness');
  const assembled = assemble(screened.code, source);
  // Screened again as the compiler will read it: reordering must not turn a comment into a directive.
  const late = screenC(assembled).refusals;
  if (late.length > 0) {
    rmSync(dir, { recursive: true, force: true });
    return {
      problems: late.map((r) => ({
        rule: 'harness-refused',
        message: `not compiled: ${r.reason} (in the C as reassembled for the compiler)`,
        at: at(patchLineOfAssembled(assembled, r.line)),
      })),
    };
  }
  writeFileSync(source, assembled);
  const flavour = { reviewed: [], v4: ['-DSNP_FLAVOUR_V4'], upstream: ['-DSNP_FLAVOUR_UPSTREAM'] }[c.flavour];
  // The harness calls the launch update by the name it was paired with (an identifier tree-sitter read).
  const launchUpdate = `-DSNP_LAUNCH_UPDATE=${c.entities.get('kvm.snp_launch_update')?.name ?? 'snp_launch_update'}`;
  // Three steps, so that only main stays global: a function of the patch that the C library or its
  // start-up files call by name (__libc_start_main, __gmon_start__, malloc ...) would otherwise
  // replace theirs and run before the sandbox, or outside it.
  const steps: [tool: string, args: string[]][] = [
    [
      'cc',
      [
        '-std=gnu11',
        '-O1',
        // Warnings are the patch author's business; an undeclared function must stop the build here,
        // with its line, rather than at link time without one.
        '-Werror=implicit-function-declaration',
        `-I${SHIM}`,
        ...flavour,
        launchUpdate,
        `-DPATCH_C="${source}"`,
        '-c',
        '-o',
        object,
        join(SHIM, 'harness.c'),
      ],
    ],
    ['objcopy', ['--keep-global-symbol=main', object]],
    ['cc', ['-o', binary, object]],
  ];
  for (const [tool, args] of steps) {
    const run = spawnSync(tool, args, {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
      encoding: 'utf8',
      timeout: COMPILE_MS,
      killSignal: 'SIGKILL',
      maxBuffer: OUTPUT_BYTES,
    });
    if (run.status === 0) continue;
    rmSync(dir, { recursive: true, force: true });
    const timedOut = run.error !== undefined && 'code' in run.error && run.error.code === 'ETIMEDOUT';
    const cause = timedOut
      ? { message: `${tool} did not finish within ${COMPILE_MS / 1000} s` }
      : compilerCause(run.error === undefined ? (run.stderr ?? '') : String(run.error), source, at);
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
  // The patch's C shares stdout: extra `end` lines it prints must not make runs out of nothing.
  outputs.length = Math.min(outputs.length, inputs.length);
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

/**
 * The 0-based line of the patch's C that line `line` of the assembled C comes from: assemble()
 * starts each chunk with `#line N`, N the 1-based line it came from.
 */
function patchLineOfAssembled(assembled: string, line: number): number {
  const lines = assembled.split('\n');
  for (let i = line; i >= 0; i--) {
    const directive = /^#line (\d+) /.exec(lines[i] ?? '');
    if (directive !== null) return Number(directive[1]) - 1 + (line - i - 1);
  }
  return line;
}
