import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Figure } from '../figure.js';

const FILE_BYTES = 2 ** 30;
const RUNS = 3;
const bin = join(import.meta.dirname, '../../../cli/bin/snp-ref.js');

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

/** Best of RUNS wall-clock seconds of a whole process, start to exit. */
function seconds(command: string, args: readonly string[]): number {
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < RUNS; run++) {
    const start = process.hrtime.bigint();
    execFileSync(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return best;
}

/** The CLI's figures: `snp-ref measure` of a 1 GiB file as a process, against `openssl dgst -sha384` on the same file. */
export async function cliFigures(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'snp-ref-bench-'));
  try {
    const { image, plan } = bigImage(dir);
    const openssl = FILE_BYTES / seconds('openssl', ['dgst', '-sha384', image]);
    const reference = { name: 'openssl dgst -sha384 on the file', value: openssl };
    const serial = FILE_BYTES / seconds(process.execPath, [bin, 'measure', '--plan', plan]);
    const parallel = FILE_BYTES / seconds(process.execPath, [bin, 'measure', '--plan', plan, '--parallel']);
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
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
