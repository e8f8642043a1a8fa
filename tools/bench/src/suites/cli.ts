import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Figure } from '../figure.js';
import { vectorsDir } from '../vectors.js';

const FILE_BYTES = 2 ** 30;
const RUNS = 3;
/** Short processes: more runs for a stable best. */
const OVMF_RUNS = 10;
const repo = join(import.meta.dirname, '../../../..');
const bin = join(repo, 'tools/cli/bin/snp-ref.js');

/**
 * The figures are of the bundle the package ships: bin/snp-ref.js would fall back to compiling the
 * sources on the fly if one changed since the last build, so the suite builds it first.
 */
function bundleCli(): void {
  execFileSync(process.execPath, ['scripts/bundle-tool.mjs', 'tools/cli', 'src/bin.ts'], { cwd: repo });
}

/**
 * Both tools as a plain machine runs them, whatever this shell's settings: Node without
 * NODE_EXTRA_CA_CERTS (Node 20 parses the bundle it names before any JavaScript runs, TLS or not:
 * nodejs/node#40524), Python with its bytecode cache (PYTHONDONTWRITEBYTECODE would recompile
 * sev-snp-measure on every run) and by its interpreter, not through a version manager's shim.
 */
function plainProcesses(): { env: NodeJS.ProcessEnv; python: string } {
  const { NODE_EXTRA_CA_CERTS: _certs, PYTHONDONTWRITEBYTECODE: _noBytecode, ...env } = process.env;
  const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  return {
    env: { ...env, PYTHONPYCACHEPREFIX: join(tmpdir(), 'snp-ref-bench-pycache') },
    python: python.trim(),
  };
}

/** A 1 GiB file of deterministic bytes and a plan measuring it as NORMAL pages. */
function bigImage(dir: string): { image: string; plan: string } {
  const image = join(dir, 'image.bin');
  const fd = openSync(image, 'w');
  const chunk = new Uint32Array(2 ** 20);
  let x = 0x5eed;
  for (let written = 0; written < FILE_BYTES; written += chunk.byteLength) {
    for (let i = 0; i < chunk.length; i++) chunk[i] = x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    writeSync(fd, chunk);
  }
  closeSync(fd);
  const plan = join(dir, 'plan.json');
  writeFileSync(
    plan,
    JSON.stringify({
      name: 'image',
      seed: '',
      ops: [{ op: 'normal', gpa: '0x0', pages: FILE_BYTES / 4096, file: 'image.bin' }],
    }),
  );
  return { image, plan };
}

type Process = readonly [command: string, args: readonly string[]];

/**
 * Best of `runs` wall-clock seconds of each process, start to exit. The processes take turns, so a
 * burst of load on a shared machine falls on each alike.
 */
function seconds(processes: readonly Process[], runs = RUNS, env = process.env): number[] {
  const times = processes.map((): number[] => []);
  for (let run = 0; run < runs; run++) {
    for (const [i, [command, args]] of processes.entries()) {
      const start = process.hrtime.bigint();
      execFileSync(command, args, { stdio: ['ignore', 'pipe', 'ignore'], env });
      times[i]?.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
  }
  return times.map((t) => Math.min(...t));
}

const OVMF = '/usr/share/ovmf/OVMF.fd';
const OVMF_ARGS = ['--mode', 'snp', '--vcpus', '4', '--vcpu-type', 'EPYC-v4', '--ovmf', OVMF];
/** sev-snp-measure's Coconut SVSM case, on its own fixtures (`fixtures` of its test suite). */
const svsmArgs = (fixtures: string) => [
  ...['--mode', 'snp:svsm', '--vcpus', '4', '--vcpu-type', 'EPYC-v4', '--vars-size', '540672'],
  ...['--ovmf', join(fixtures, 'svsm_ovmf.fd'), '--svsm', join(fixtures, 'svsm.bin')],
];

/**
 * `snp-ref measure` with sev-snp-measure's flags, end to end as a process, against virtee's
 * sev-snp-measure (Python) on the same flags: SEV_SNP_MEASURE names its sev-snp-measure.py, else
 * `sev-snp-measure` is taken from PATH. Both must print the same digest; the target is `factor`
 * times the reference's runs per second.
 */
function versusSevSnpMeasure(name: string, args: readonly string[], factor: number): Figure | undefined {
  const script = process.env.SEV_SNP_MEASURE;
  const { env, python: interpreter } = plainProcesses();
  const reference: Process = script ? [interpreter, [script, ...args]] : ['sev-snp-measure', args];
  const snpRef: Process = [process.execPath, [bin, 'measure', ...args]];
  const run = (command: string, argv: readonly string[]) =>
    execFileSync(command, argv, { encoding: 'utf8', env });
  try {
    if (run(...reference) !== run(...snpRef))
      throw new Error(`snp-ref and sev-snp-measure disagree on ${name}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    console.warn(
      `${name} skipped: set SEV_SNP_MEASURE to sev-snp-measure.py (virtee/sev-snp-measure) to compare`,
    );
    return undefined;
  }
  const [python = 0, ours = 0] = seconds([reference, snpRef], OVMF_RUNS, env).map((s) => 1 / s);
  return {
    name: `snp-ref measure ${name}, process`,
    value: ours,
    unit: 'runs/s',
    reference: { name: 'sev-snp-measure (Python), same flags', value: python },
    target: { min: factor * python },
  };
}

/**
 * The CLI's figures: `snp-ref measure` of a 1 GiB file as a process, against `openssl dgst -sha384`
 * on the same file; of an OVMF guest and of a Coconut SVSM against sev-snp-measure.
 */
export async function cliFigures(): Promise<Figure[]> {
  bundleCli();
  const svsm = '--mode snp:svsm, Coconut SVSM + 4 vCPUs';
  const fixtures = vectorsDir('sev-snp-measure/fixtures', svsm);
  const references = [
    versusSevSnpMeasure('--mode snp, OVMF.fd + 4 vCPUs', OVMF_ARGS, 1),
    fixtures === undefined ? undefined : versusSevSnpMeasure(svsm, svsmArgs(fixtures), 1.5),
  ].filter((f) => f !== undefined);
  const dir = mkdtempSync(join(tmpdir(), 'snp-ref-bench-'));
  try {
    const { image, plan } = bigImage(dir);
    const [openssl = 0, serial = 0, parallel = 0] = seconds([
      ['openssl', ['dgst', '-sha384', image]],
      [process.execPath, [bin, 'measure', '--plan', plan]],
      [process.execPath, [bin, 'measure', '--plan', plan, '--parallel']],
    ]).map((s) => FILE_BYTES / s);
    const reference = { name: 'openssl dgst -sha384 on the file', value: openssl };
    return [
      {
        name: 'snp-ref measure, 1 GiB file, process',
        value: serial,
        unit: 'B/s',
        reference,
        target: { min: 0.7 * openssl },
      },
      {
        name: 'snp-ref measure --parallel, 1 GiB file',
        value: parallel,
        unit: 'B/s',
        reference,
        target: { min: openssl },
      },
      ...references,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
