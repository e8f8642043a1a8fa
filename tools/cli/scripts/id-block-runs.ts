// Regenerates test/id-block-runs.json by running virtee/sev-snp-measure's snp-create-id-block.py
// (not part of this repository) on the test keys in test/id-keys:
//   SNP_CREATE_ID_BLOCK=/path/to/snp-create-id-block.py node --import tsx tools/cli/scripts/id-block-runs.ts
// The runs use paths relative to tools/cli; only the command lines and what the reference printed
// are recorded. Its ECDSA signatures are randomised (OpenSSL), so they differ from run to run.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ID = 'test/id-keys/test-id-key.pem';
const AUTHOR = 'test/id-keys/test-author-key.pem';
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/** Each run's measurement, and where it comes from. */
const ID_BLOCK_RUNS: readonly { readonly why: string; readonly args: readonly string[] }[] = [
  {
    why: "sev-snp-measure's own test digest (tests/test_id_block.py)",
    args: [
      '--measurement',
      'B28FLQi9p6cAqipgjFyqawDrrSl7bWioWkWx5mmlWLZ+G5HShKMB/mPE+gdQRn7t',
      '--idkey',
      ID,
      '--authorkey',
      AUTHOR,
    ],
  },
  {
    why: "the digest of Debian's OVMF, 4 EPYC-v4 vCPUs (test/reference-runs.json), keys in the other roles",
    args: [
      '--measurement',
      b64('32ac9d7a17d28f7cd4404a4516d2f00519668c40ada2062351c36767e908eb3f090d66c33ab10f80150e00a4385b6d0f'),
      '--idkey',
      AUTHOR,
      '--authorkey',
      ID,
    ],
  },
  {
    why: 'one key as both ID and author key',
    args: ['--measurement', b64(`${'00'.repeat(47)}01`), '--idkey', ID, '--authorkey', ID],
  },
  {
    why: 'the launch of src/idBlock.test.ts: snp-ref measure --plan of its plan and image',
    args: [
      '--measurement',
      'dNFw9UNHX+jBnfFbn9zTptnulzkMYB7ocx5Td7uiJqvwxe7AdMgnPMJ+ci6R4+S1',
      '--idkey',
      ID,
      '--authorkey',
      AUTHOR,
    ],
  },
];

function main(): void {
  const script = process.env.SNP_CREATE_ID_BLOCK;
  if (script === undefined) throw new Error('set SNP_CREATE_ID_BLOCK to the path of snp-create-id-block.py');
  const cwd = join(import.meta.dirname, '..');
  const out = {
    reference:
      'virtee/sev-snp-measure 0.0.13 (commit 8f2b337) snp-create-id-block.py, run by tools/cli/scripts/id-block-runs.ts',
    keys: 'test/id-keys/*.pem are test keys made for these runs (openssl ecparam / genpkey, P-384): never use them for a guest',
    runs: ID_BLOCK_RUNS.map(({ why, args }) => ({
      why,
      args,
      stdout: execFileSync('python3', [script, ...args], { cwd, encoding: 'utf8' }),
    })),
  };
  writeFileSync(join(cwd, 'test/id-block-runs.json'), `${JSON.stringify(out, null, 2)}\n`);
}

if (process.argv[1] === import.meta.filename) main();
