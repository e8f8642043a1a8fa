import { hash } from 'node:crypto';
import { p384PublicKey, verifyP384 } from '../attestation/signingKey.js';
import { IdAuthInfo } from './commandBuffers.js';

/** An ECDSA public key in the ABI's 0x404-byte form: curve u32 (2 = P-384), Qx[72] LE, Qy[72] LE. */
export const ECDSA_PUBLIC_KEY_BYTES = 0x404;
/** The ABI's curve value for P-384, the only curve ID keys use. */
export const CURVE_P384 = 2;

/**
 * A P-384 public key in the ABI's 0x404-byte form.
 * @param sec1 - The key as an uncompressed SEC1 point (97 bytes: 0x04, X, Y).
 */
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

/**
 * A signature in the ABI's 0x200-byte form.
 * @param signature - r and s as big-endian 48-byte integers.
 */
export function encodeEcdsaSignature(signature: EcdsaSignature): Uint8Array {
  const bytes = new Uint8Array(ECDSA_SIGNATURE_BYTES);
  bytes.set(Uint8Array.from(signature.r).reverse(), 0);
  bytes.set(Uint8Array.from(signature.s).reverse(), 72);
  return bytes;
}

/**
 * Reads a signature in the ABI's 0x200-byte form.
 * @returns r and s as big-endian 48-byte integers.
 */
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

/** ID_KEY_ALGO / AUTH_KEY_ALGO of ECDSA P-384 with SHA-384 (AMD-ASPFW sev_mcmd.h; sev-snp-measure id_block.py DefaultKeyAlgo). */
export const ID_KEY_ALGO_ECDSA_P384_SHA384 = 1;

/**
 * The 0x1000-byte ID authentication information page, the inverse of what LAUNCH_FINISH reads:
 * without an author key, AUTH_KEY_ALGO and the author fields stay zero (the firmware reads them
 * only when LAUNCH_FINISH sets AUTHOR_KEY_EN; QEMU's author-key-enabled).
 */
export function encodeIdAuthInfo(auth: IdAuth): Uint8Array {
  const none = new Uint8Array(ECDSA_PUBLIC_KEY_BYTES);
  return IdAuthInfo.encode({
    idKeyAlgo: ID_KEY_ALGO_ECDSA_P384_SHA384,
    authKeyAlgo: auth.author === undefined ? 0 : ID_KEY_ALGO_ECDSA_P384_SHA384,
    idBlockSig: encodeEcdsaSignature(auth.idBlockSignature),
    idKey: encodeEcdsaPublicKey(auth.idKey),
    idKeySig:
      auth.author === undefined
        ? new Uint8Array(ECDSA_SIGNATURE_BYTES)
        : encodeEcdsaSignature(auth.author.idKeySignature),
    authorKey: auth.author === undefined ? none : encodeEcdsaPublicKey(auth.author.key),
  });
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
