import { LengthError } from '../errors.js';
import { PAGE_BYTES } from '../measure/launchDigest.js';
import { MemoryEncryption } from './encryption.js';

const ZERO_PAGE = new Uint8Array(PAGE_BYTES);

/**
 * Host physical memory as DRAM holds it, page by page (only written pages take space). A guest's
 * private pages hold ciphertext under its ASID's key: `read` returns what any unencrypted access,
 * such as the host's, sees; `readPrivate`/`writePrivate` are accesses with the guest's key (C-bit
 * set). RMP checks belong to the caller (rmp-core's checkHostAccess / checkGuestAccess); the
 * firmware writes here without them, as the PSP does.
 */
export class PhysicalMemory {
  private readonly pages = new Map<number, Buffer>();

  constructor(readonly encryption: MemoryEncryption) {}

  static create(seed: string): PhysicalMemory {
    return new PhysicalMemory(new MemoryEncryption(seed));
  }

  /** The raw 4096 bytes of a page (a copy; zeros if never written). */
  read(pfn: number): Buffer {
    return Buffer.from(this.pages.get(pfn) ?? ZERO_PAGE);
  }

  /** Writes raw bytes at `offset` within the page. */
  write(pfn: number, bytes: Uint8Array, offset = 0): void {
    if (offset < 0 || offset + bytes.length > PAGE_BYTES) {
      throw new LengthError(
        `a write at offset ${offset} of a page`,
        `at most ${PAGE_BYTES - offset}`,
        bytes.length,
      );
    }
    let page = this.pages.get(pfn);
    if (page === undefined) {
      page = Buffer.alloc(PAGE_BYTES);
      this.pages.set(pfn, page);
    }
    page.set(bytes, offset);
  }

  /** The page as the owner of `asid` reads it through an encrypted mapping. */
  readPrivate(asid: number, pfn: number): Buffer {
    return this.encryption.decryptPage(asid, pfn, this.pages.get(pfn) ?? ZERO_PAGE);
  }

  /** Stores `plaintext` (a whole page) encrypted under `asid`. */
  writePrivate(asid: number, pfn: number, plaintext: Uint8Array): void {
    if (plaintext.length !== PAGE_BYTES)
      throw new LengthError('a private page write', '4096', plaintext.length);
    this.write(pfn, this.encryption.encryptPage(asid, pfn, plaintext));
  }
}
