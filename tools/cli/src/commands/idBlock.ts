// `snp-ref id-block`: the guest owner's ID block and ID authentication information, with the
// flags and output of sev-snp-measure's snp-create-id-block.py.
import { defineCommand } from '../commandLine/command.js';
import { CliInputError } from '../commandLine/inputError.js';
import { bytesValue, unsignedValue } from '../commandLine/values.js';
import { filesOf } from '../files.js';

export const idBlockCommand = defineCommand({
  name: 'id-block',
  summary:
    'Sign an ID block for a launch digest with an ID key (and an author key): the id-block= and id-auth= of QEMU, and the key digests a report will carry',
  arguments: [],
  options: [
    {
      flag: '--measurement',
      type: 'string',
      value: 'digest',
      description: 'the expected launch digest: base64 (as sev-snp-measure prints it) or 96 hex digits',
    },
    {
      flag: '--idkey',
      type: 'string',
      value: 'file',
      description: 'the ID key: a P-384 private key, PEM or DER',
    },
    {
      flag: '--authorkey',
      type: 'string',
      value: 'file',
      description: 'the author key, which signs the ID key (optional here; sev-snp-measure requires it)',
    },
    {
      flag: '--policy',
      type: 'string',
      value: 'value',
      description: 'the guest POLICY the launch must have (default 0x30000)',
    },
    { flag: '--family-id', type: 'string', value: 'hex', description: 'FAMILY_ID, 16 bytes (default zero)' },
    { flag: '--image-id', type: 'string', value: 'hex', description: 'IMAGE_ID, 16 bytes (default zero)' },
    { flag: '--guest-svn', type: 'string', value: 'n', description: 'the guest SVN, 32 bits (default 0)' },
    {
      flag: '--json',
      type: 'boolean',
      description: 'print {idBlock, idAuth} as base64 and the key digests as hex (what report verify takes)',
    },
  ],
  action: async ({ options }, io) => {
    if (options.measurement === undefined || options.idkey === undefined)
      throw new CliInputError(
        'USAGE',
        'id-block: --measurement and --idkey are required (e.g. --measurement <base64> --idkey id.pem)',
      );
    const { ID_BLOCK_DEFAULTS, MAX_KEY_FILE_BYTES, readP384PrivateKey, signIdBlock } = await import(
      '@snp-ref/attestation'
    );
    const files = filesOf(io);
    const key = (file: string) => readP384PrivateKey(files.readBytes(file, MAX_KEY_FILE_BYTES), file);
    const block = {
      ld: bytesValue('--measurement', options.measurement, 48),
      familyId:
        options.familyId === undefined
          ? ID_BLOCK_DEFAULTS.familyId
          : bytesValue('--family-id', options.familyId, 16),
      imageId:
        options.imageId === undefined
          ? ID_BLOCK_DEFAULTS.imageId
          : bytesValue('--image-id', options.imageId, 16),
      version: ID_BLOCK_DEFAULTS.version,
      guestSvn:
        options.guestSvn === undefined
          ? ID_BLOCK_DEFAULTS.guestSvn
          : Number(unsignedValue('--guest-svn', options.guestSvn, 32)),
      policy:
        options.policy === undefined ? ID_BLOCK_DEFAULTS.policy : unsignedValue('--policy', options.policy),
    };
    const signed = signIdBlock(
      block,
      key(options.idkey),
      options.authorkey === undefined ? undefined : key(options.authorkey),
    );
    const [b64, hex] = [
      (b: Uint8Array) => Buffer.from(b).toString('base64'),
      (b: Uint8Array) => Buffer.from(b).toString('hex'),
    ];
    if (options.json) {
      const json = {
        idBlock: b64(signed.idBlock),
        idAuth: b64(signed.idAuth),
        idKeyDigest: hex(signed.idKeyDigest),
        authorKeyDigest: signed.authorKeyDigest === undefined ? null : hex(signed.authorKeyDigest),
        authorKeyEnabled: signed.authorKeyDigest !== undefined,
      };
      io.stdout(`${JSON.stringify(json, null, 2)}\n`);
      return;
    }
    // snp-create-id-block.py prints exactly these lines (id_block.py snp_calc_id_block, then print).
    const lines = [
      `id-block=${b64(signed.idBlock)},id-auth=${b64(signed.idAuth)}`,
      `id_key_hash: ${b64(signed.idKeyDigest)}`,
      ...(signed.authorKeyDigest === undefined ? [] : [`author_key: ${b64(signed.authorKeyDigest)}`]),
    ];
    io.stdout(`${lines.join('\n')}\n`);
  },
});
