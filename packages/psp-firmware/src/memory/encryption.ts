import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { PAGE_SIZE } from '@snp-ref/rmp-core';

/**
 * Per-ASID memory encryption, the model's stand-in for the memory controller's VEKs: each ASID has
 * an AES-128-XTS key (two 128-bit halves) derived from the platform seed by HKDF-SHA-256, and each
 * page is encrypted with the tweak set to its system physical address. So the same plaintext gives
 * different ciphertext under another ASID and at another address, as on SNP hardware, whose AES
 * engine also tweaks by physical address (APM vol. 2 §15.34.1); the real cipher mode is not public.
 */
export class MemoryEncryption {
  private readonly keys = new Map<number, Buffer>();

  constructor(private readonly seed: string) {}

  /** The ciphertext of a page written by `asid` at `pfn`. */
  encryptPage(asid: number, pfn: number, plaintext: Uint8Array): Buffer {
    const cipher = createCipheriv('aes-128-xts', this.key(asid), tweak(pfn));
    return Buffer.concat([cipher.update(plaintext), cipher.final()]);
  }

  /** The plaintext of a page read by `asid` at `pfn`. */
  decryptPage(asid: number, pfn: number, ciphertext: Uint8Array): Buffer {
    const decipher = createDecipheriv('aes-128-xts', this.key(asid), tweak(pfn));
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  }

  private key(asid: number): Buffer {
    let key = this.keys.get(asid);
    if (key === undefined) {
      key = Buffer.from(hkdfSync('sha256', this.seed, 'snp-ref memory encryption', `VEK ASID ${asid}`, 32));
      this.keys.set(asid, key);
    }
    return key;
  }
}

function tweak(pfn: number): Buffer {
  const iv = Buffer.alloc(16);
  const pa = pfn * PAGE_SIZE;
  iv.writeUInt32LE(pa % 2 ** 32, 0);
  iv.writeUInt32LE(Math.floor(pa / 2 ** 32), 4);
  return iv;
}
