import { createPublicKey, hash, type KeyObject, verify } from 'node:crypto';
import { p384 } from '@noble/curves/p384';

/** The P-384 group order n (SEC 2 §2.5.1, secp384r1). */
const N = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;

const scalarBytes = (value: bigint) => Buffer.from(value.toString(16).padStart(96, '0'), 'hex');

function seeded(seed: Uint8Array | string): Uint8Array {
  const material = Buffer.concat([Buffer.from('snp-ref P-384 key'), Buffer.from(seed)]);
  return scalarBytes((BigInt(`0x${hash('sha384', material, 'hex')}`) % (N - 1n)) + 1n);
}

function checkedScalar(d: Uint8Array): Uint8Array {
  const value = d.length === 48 ? BigInt(`0x${Buffer.from(d).toString('hex')}`) : 0n;
  if (value === 0n || value >= N) throw new RangeError('a P-384 private scalar is 48 bytes in [1, n - 1]');
  return Uint8Array.from(d);
}

/**
 * An ECDSA P-384 key derived from a seed, so that signatures are reproducible: the simulated VCEK
 * (real VCEKs derive from the chip's secrets and its TCB) and, in tests, ID and author keys. The
 * private scalar is SHA-384("snp-ref P-384 key" || seed) reduced into [1, n - 1]; signing is
 * deterministic (RFC 6979, @noble/curves).
 */
export class P384SigningKey {
  private readonly privateKey: Uint8Array;
  private derivedPublicKey: Uint8Array | undefined;

  /**
   * `seed`: the key derived from it, as above; `{ scalar }`: the key whose private scalar is that
   * (48 bytes, big-endian), a guest owner's ID or author key read from its file. A scalar outside
   * [1, n - 1] is a RangeError.
   */
  constructor(seed: Uint8Array | string | { readonly scalar: Uint8Array }) {
    this.privateKey =
      typeof seed === 'object' && 'scalar' in seed ? checkedScalar(seed.scalar) : seeded(seed);
  }

  /**
   * The uncompressed SEC1 public key (0x04 || x || y), 97 bytes; computed when first asked for: the
   * scalar multiplication is most of what creating a firmware (its VCEK) costs, and signing needs
   * only the private key.
   */
  get publicKey(): Uint8Array {
    this.derivedPublicKey ??= p384.getPublicKey(this.privateKey, false);
    return this.derivedPublicKey;
  }

  /** Signs SHA-384(message); returns r and s as big-endian 48-byte integers. */
  sign(message: Uint8Array): { r: Uint8Array; s: Uint8Array } {
    const digest = hash('sha384', message, 'buffer');
    const signature = p384.sign(digest, this.privateKey);
    return { r: scalarBytes(signature.r), s: scalarBytes(signature.s) };
  }
}

/** A P-384 public key (uncompressed SEC1 bytes) as a node:crypto key, for OpenSSL to verify with. */
export function p384PublicKey(sec1: Uint8Array): KeyObject {
  const xy = Buffer.from(sec1.subarray(1));
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-384',
      x: xy.subarray(0, 48).toString('base64url'),
      y: xy.subarray(48).toString('base64url'),
    },
    format: 'jwk',
  });
}

/**
 * Checks an ECDSA P-384/SHA-384 signature with OpenSSL (node:crypto), an implementation independent
 * of the signer's (@noble/curves).
 */
export function verifyP384(message: Uint8Array, r: Uint8Array, s: Uint8Array, publicKey: KeyObject): boolean {
  const signature = Buffer.concat([r, s]);
  return verify('sha384', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
}
