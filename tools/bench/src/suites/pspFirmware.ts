import { availableParallelism } from 'node:os';
import { LaunchDigest, PageType, ParallelPageHasher } from '@snp-ref/psp-firmware';
import { PAGE_SIZE } from '@snp-ref/rmp-core';
import type { Figure } from '../figure.js';
import { opensslSha384 } from '../references.js';
import { bytesPerSecond } from '../throughput.js';

const PLAN_BYTES = 64 * 2 ** 20;

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
    const reference = { name: 'openssl speed -elapsed -evp sha384, 1 core', value: openssl };
    return [
      {
        name: `launch digest, 64 MiB NORMAL, 1 thread (${PLAN_BYTES / PAGE_SIZE} pages)`,
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
