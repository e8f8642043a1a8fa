import { hash } from 'node:crypto';
import { p384PublicKey, verifyP384 } from '../attestation/signingKey.js';

/** An ECDSA public key in the ABI's 0x404-byte form: curve u32 (2 = P-384), Qx[72] LE, Qy[72] LE. */
export const ECDSA_PUBLIC_KEY_BYTES = 0x404;
export const CURVE_P384 = 2;

export function encodeEcdsaPublicKey(sec1: Uint8Array): Buffer {
  const bytes = Buffer.alloc(ECDSA_PUBLIC_KEY_BYTES);
  bytes.writeUInt32LE(CURVE_P384, 0);
  bytes.set(Uint8Array.from(sec1.subarray(1, 49)).reverse(), 4);
  bytes.set(Uint8Array.from(sec1.subarray(49, 97)).reverse(), 4 + 72);
  return bytes;
}

/** The SEC1 point of a key in the ABI's 0x404-byte form, or undefined if its curve is not P-384. */
export function decodeEcdsaPublicKey(bytes: Uint8Array): Uint8Array | undefined {
  if (Buffer.from(bytes.buffer, bytes.byteOffset, 4).readUInt32LE(0) !== CURVE_P384) return undefined;
  const sec1 = new Uint8Array(97);
  sec1[0] = 0x04;
  sec1.set(Uint8Array.from(bytes.subarray(4, 52)).reverse(), 1);
  sec1.set(Uint8Array.from(bytes.subarray(4 + 72, 4 + 72 + 48)).reverse(), 49);
  return sec1;
}

/** An ECDSA signature in the ABI's 0x200-byte form: r[72] and s[72], little-endian. */
export const ECDSA_SIGNATURE_BYTES = 0x200;

export function encodeEcdsaSignature(signature: EcdsaSignature): Uint8Array {
  const bytes = new Uint8Array(ECDSA_SIGNATURE_BYTES);
  bytes.set(Uint8Array.from(signature.r).reverse(), 0);
  bytes.set(Uint8Array.from(signature.s).reverse(), 72);
  return bytes;
}

export function decodeEcdsaSignature(bytes: Uint8Array): EcdsaSignature {
  return {
    r: Uint8Array.from(bytes.subarray(0, 48)).reverse(),
    s: Uint8Array.from(bytes.subarray(72, 72 + 48)).reverse(),
  };
}

/** ID_KEY_DIGEST / AUTHOR_KEY_DIGEST: SHA-384 over the 0x404-byte key (AMD-ASPFW snp_mcmd_launch_finish). */
export function keyDigest(sec1: Uint8Array): Uint8Array {
  return new Uint8Array(hash('sha384', encodeEcdsaPublicKey(sec1), 'buffer'));
}

/** An ECDSA P-384 signature, r and s as big-endian 48-byte integers. */
export interface EcdsaSignature {
  readonly r: Uint8Array;
  readonly s: Uint8Array;
}

/**
 * The ID authentication information of LAUNCH_FINISH (0x1000 bytes in the ABI, AMD-ASPFW
 * sev_mcmd.h), as its parts: the ID key and its signature of the ID block, and optionally the
 * author key and its signature of the ID key's 0x404-byte form.
 */
export interface IdAuth {
  readonly idKey: Uint8Array;
  readonly idBlockSignature: EcdsaSignature;
  readonly author?: { readonly key: Uint8Array; readonly idKeySignature: EcdsaSignature };
}

/** True when `key` (SEC1 P-384) signed `message`; false for a bad signature or a key not on the curve. */
export function ecdsaVerifies(message: Uint8Array, signature: EcdsaSignature, key: Uint8Array): boolean {
  try {
    if (key.length !== 97 || key[0] !== 0x04) return false;
    return verifyP384(message, signature.r, signature.s, p384PublicKey(key));
  } catch {
    return false; // not a point on P-384
  }
}
