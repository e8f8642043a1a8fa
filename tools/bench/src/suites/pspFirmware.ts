import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { LaunchDigest, PAGE_BYTES, PageType, ParallelPageHasher } from '@snp-ref/psp-firmware';
import { Bench } from 'tinybench';
import type { Figure } from '../figure.js';

const PLAN_BYTES = 64 * 2 ** 20;
const RUNS = 8;

/**
 * The reference: OpenSSL's single-core SHA-384 over 4096-byte blocks, measured now
 * (`openssl speed -evp sha384 -bytes 4096`), in bytes per second.
 */
function opensslSha384(): number {
  let output: string;
  try {
    output = execFileSync('openssl', ['speed', '-evp', 'sha384', '-bytes', '4096', '-seconds', '2'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    throw new Error('the launch-digest figures need `openssl` on PATH for their reference');
  }
  // The last line reads "sha384   843573.27k": thousands of bytes per second for 4096-byte blocks.
  const match = /^sha384\s+([\d.]+)k\s*$/m.exec(output);
  if (match?.[1] === undefined) throw new Error(`unexpected \`openssl speed\` output:\n${output}`);
  return Number(match[1]) * 1000;
}

/** A 64 MiB plan of NORMAL pages: deterministic contents in shared memory, for the workers to read in place. */
function planPages(): Uint8Array {
  const pages = new Uint8Array(new SharedArrayBuffer(PLAN_BYTES));
  const words = new Uint32Array(pages.buffer);
  let x = 0x5eed;
  for (let i = 0; i < words.length; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    words[i] = x;
  }
  return pages;
}

/** Bytes per second of each task, each measured over RUNS full passes of `bytes` bytes. */
async function bytesPerSecond(tasks: Readonly<Record<string, () => void>>, bytes: number) {
  const bench = new Bench({ iterations: RUNS, time: 0, warmupIterations: 1, warmupTime: 0 });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  return Object.fromEntries(
    bench.tasks.map((t) => [
      t.name,
      t.result.state === 'completed' ? (bytes * 1000) / t.result.period : Number.NaN,
    ]),
  );
}

/** psp-firmware's figures: launch-digest throughput against OpenSSL, one thread and all cores. */
export async function pspFirmwareFigures(): Promise<Figure[]> {
  const pages = planPages();
  const hasher = await ParallelPageHasher.create(); // one thread per core, the caller included
  try {
    const digests: Record<string, string> = {};
    const measure = (name: string, run: (digest: LaunchDigest) => void) => () => {
      const digest = new LaunchDigest();
      run(digest);
      digests[name] = digest.hex();
    };
    const rate = await bytesPerSecond(
      {
        serial: measure('serial', (d) => d.updatePages(PageType.NORMAL, 0, pages)),
        parallel: measure('parallel', (d) => d.updatePagesParallel(hasher, PageType.NORMAL, 0, pages)),
      },
      PLAN_BYTES,
    );
    if (digests.serial !== digests.parallel) throw new Error('parallel and serial launch digests differ');
    const openssl = opensslSha384();
    const reference = { name: 'openssl speed -evp sha384, 1 core', value: openssl };
    return [
      {
        name: `launch digest, 64 MiB NORMAL, 1 thread (${PLAN_BYTES / PAGE_BYTES} pages)`,
        value: rate.serial ?? Number.NaN,
        unit: 'B/s',
        reference,
        target: { min: 0.8 * openssl },
      },
      {
        name: `launch digest, 64 MiB NORMAL, ${hasher.threads} threads (${availableParallelism()} cores)`,
        value: rate.parallel ?? Number.NaN,
        unit: 'B/s',
        reference,
        target: { min: 1.5 * openssl },
      },
    ];
  } finally {
    await hasher.close();
  }
}
