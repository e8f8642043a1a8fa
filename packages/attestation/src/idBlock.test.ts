import { generateKeyPairSync } from 'node:crypto';
import {
  decodeEcdsaPublicKey,
  decodeEcdsaSignature,
  ecdsaVerifies,
  IdAuthInfo,
  IdBlockBuffer,
  keyDigest,
  P384SigningKey,
} from '@snp-ref/psp-firmware';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyFormatError } from './errors.js';
import { ID_BLOCK_DEFAULTS, MAX_KEY_FILE_BYTES, readP384PrivateKey, signIdBlock } from './idBlock.js';

const block = fc.record({
  ld: fc.uint8Array({ minLength: 48, maxLength: 48 }),
  familyId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  imageId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  version: fc.constant(1),
  guestSvn: fc.nat({ max: 0xffff_ffff }),
  policy: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
});

describe('signIdBlock', () => {
  const idKey = new P384SigningKey('test ID key');
  const authorKey = new P384SigningKey('test author key');

  it('encodes the block as LAUNCH_FINISH reads it, and each signature verifies; a flipped bit of the block does not', () => {
    fc.assert(
      fc.property(block, fc.nat({ max: 0x60 * 8 - 1 }), (b, bit) => {
        const signed = signIdBlock(b, idKey, authorKey);
        expect(IdBlockBuffer.decode(signed.idBlock)).toEqual(b);
        const auth = IdAuthInfo.decode(signed.idAuth);
        const [id, author] = [decodeEcdsaPublicKey(auth.idKey), decodeEcdsaPublicKey(auth.authorKey)];
        expect([id, author]).toEqual([idKey.publicKey, authorKey.publicKey]);
        expect(ecdsaVerifies(signed.idBlock, decodeEcdsaSignature(auth.idBlockSig), idKey.publicKey)).toBe(
          true,
        );
        expect(ecdsaVerifies(auth.idKey, decodeEcdsaSignature(auth.idKeySig), authorKey.publicKey)).toBe(
          true,
        );
        const flipped = Uint8Array.from(signed.idBlock);
        flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(ecdsaVerifies(flipped, decodeEcdsaSignature(auth.idBlockSig), idKey.publicKey)).toBe(false);
      }),
      { numRuns: 20 },
    );
  });

  it('gives the key digests a report will carry; none for the author without an author key', () => {
    const b = { ...ID_BLOCK_DEFAULTS, ld: new Uint8Array(48) };
    expect(signIdBlock(b, idKey, authorKey)).toMatchObject({
      idKeyDigest: keyDigest(idKey.publicKey),
      authorKeyDigest: keyDigest(authorKey.publicKey),
    });
    expect(signIdBlock(b, idKey).authorKeyDigest).toBeUndefined();
  });
});

describe('readP384PrivateKey', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  const forms = [
    privateKey.export({ format: 'pem', type: 'sec1' }),
    privateKey.export({ format: 'pem', type: 'pkcs8' }),
    privateKey.export({ format: 'der', type: 'sec1' }),
    privateKey.export({ format: 'der', type: 'pkcs8' }),
  ].map((k) => Buffer.from(k));

  it('reads the same key from PEM and DER, SEC1 and PKCS#8', () => {
    const keys = forms.map((bytes) => readP384PrivateKey(bytes, 'key').publicKey);
    for (const key of keys) expect(key).toEqual(keys[0]);
  });

  it.each([
    [
      'a P-256 key',
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
        format: 'pem',
        type: 'pkcs8',
      }),
      /a prime256v1 EC key/,
    ],
    [
      'an RSA key',
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
      /a rsa key/,
    ],
    ['garbage', 'garbage', /not a private key in PEM or DER/],
    ['too many bytes', Buffer.alloc(MAX_KEY_FILE_BYTES + 1), /too large/],
  ])('refuses %s, naming the file', (_, bytes, message) => {
    const read = () => readP384PrivateKey(Buffer.from(bytes), 'k.pem');
    expect(read).toThrow(KeyFormatError);
    expect(read).toThrow(message);
    expect(read).toThrow(/^k\.pem: /);
  });
});
