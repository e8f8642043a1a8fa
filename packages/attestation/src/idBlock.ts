// The guest owner's side of a launch: the ID block and its ID authentication information, signed
// with the ID key (and optionally the author key), as sev-snp-measure's snp-create-id-block.py
// makes them for QEMU's `-object sev-snp-guest,id-block=…,id-auth=…`.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import {
  encodeEcdsaPublicKey,
  encodeIdAuthInfo,
  encodeIdBlock,
  type IdBlock,
  keyDigest,
  P384SigningKey,
} from '@snp-ref/psp-firmware';
import { KeyFormatError } from './errors.js';

/**
 * What sev-snp-measure puts in every ID block besides the digest (id_block.py: DefaultIDs 32 zero
 * bytes for FAMILY_ID and IMAGE_ID, DefaultVersion 1, DefaultGuestSVN 0, DefaultPolicy 196608).
 */
export const ID_BLOCK_DEFAULTS: Omit<IdBlock, 'ld'> = {
  familyId: new Uint8Array(16),
  imageId: new Uint8Array(16),
  version: 1,
  guestSvn: 0,
  policy: 0x3_0000n,
};

/**
 * What LAUNCH_FINISH takes to launch with an ID block (KVM_SEV_SNP_LAUNCH_FINISH id_block_uaddr and
 * id_auth_uaddr), and the key digests the report then carries.
 */
export interface SignedIdBlock {
  /** The 0x60-byte ID block. */
  readonly idBlock: Uint8Array;
  /** The 0x1000-byte ID authentication information. */
  readonly idAuth: Uint8Array;
  /** SHA-384 of the ID key's 0x404-byte form: the report's ID_KEY_DIGEST after this launch. */
  readonly idKeyDigest: Uint8Array;
  /** The same of the author key, the report's AUTHOR_KEY_DIGEST; absent without an author key. */
  readonly authorKeyDigest?: Uint8Array;
}

/**
 * Signs the ID block with the ID key and, given an author key, the ID key with the author key.
 * ECDSA P-384 over SHA-384, r and s little-endian in 72-byte fields (AMD-ASPFW sev_mcmd.h;
 * sev-snp-measure sign_in_snp_format). Signing is deterministic (RFC 6979): the same keys and
 * block give the same bytes, where sev-snp-measure's signatures change from run to run.
 */
export function signIdBlock(
  block: IdBlock,
  idKey: P384SigningKey,
  authorKey?: P384SigningKey,
): SignedIdBlock {
  const idBlock = encodeIdBlock(block);
  const author =
    authorKey === undefined
      ? undefined
      : { key: authorKey.publicKey, idKeySignature: authorKey.sign(encodeEcdsaPublicKey(idKey.publicKey)) };
  return {
    idBlock,
    idAuth: encodeIdAuthInfo({
      idKey: idKey.publicKey,
      idBlockSignature: idKey.sign(idBlock),
      ...(author === undefined ? {} : { author }),
    }),
    idKeyDigest: keyDigest(idKey.publicKey),
    ...(authorKey === undefined ? {} : { authorKeyDigest: keyDigest(authorKey.publicKey) }),
  };
}

/** A key file larger than this is refused unread (a PEM P-384 key is about 300 bytes). */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

/**
 * The P-384 private key in a file's bytes: PEM ("EC PRIVATE KEY" as `openssl ecparam -genkey`
 * writes it, or PKCS#8 "PRIVATE KEY") or the same as DER. An encrypted key, a public key, another
 * curve or another algorithm is a KeyFormatError naming `where`.
 */
export function readP384PrivateKey(bytes: Uint8Array, where: string): P384SigningKey {
  if (bytes.length > MAX_KEY_FILE_BYTES)
    throw new KeyFormatError(where, `${bytes.length} bytes is too large for a private key`);
  const key = privateKeyOf(Buffer.from(bytes), where);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  // sev-snp-measure id_block.py marshal_ec_public_key: "SNP only supports the EC curve P-384".
  if (key.asymmetricKeyType !== 'ec' || curve !== 'secp384r1')
    throw new KeyFormatError(
      where,
      `a ${key.asymmetricKeyType === 'ec' ? `${curve ?? 'named-curve'} EC` : (key.asymmetricKeyType ?? 'non-EC')} key; SNP's ID and author keys are ECDSA P-384 (secp384r1)`,
    );
  const { d } = key.export({ format: 'jwk' });
  return new P384SigningKey({ scalar: Buffer.from(d ?? '', 'base64url') });
}

function privateKeyOf(bytes: Buffer, where: string): KeyObject {
  const pem = bytes.includes('-----BEGIN');
  // PKCS#8 "ENCRYPTED PRIVATE KEY", or OpenSSL's traditional "Proc-Type: 4,ENCRYPTED" header (RFC 1421).
  if (pem && (bytes.includes('ENCRYPTED PRIVATE KEY') || bytes.includes('Proc-Type: 4,ENCRYPTED')))
    throw new KeyFormatError(
      where,
      'an encrypted private key; decrypt it first (openssl pkey -in KEY -out PLAIN)',
    );
  const attempts = pem
    ? [{ key: bytes, format: 'pem' } as const]
    : [
        { key: bytes, format: 'der', type: 'pkcs8' } as const,
        { key: bytes, format: 'der', type: 'sec1' } as const,
      ];
  for (const attempt of attempts) {
    try {
      return createPrivateKey(attempt);
    } catch {
      // the next form, then the error below
    }
  }
  throw new KeyFormatError(
    where,
    pem
      ? 'not a private key (PEM "EC PRIVATE KEY" or "PRIVATE KEY" expected; a public key or certificate cannot sign)'
      : 'not a private key in PEM or DER (PKCS#8 or SEC1)',
  );
}
