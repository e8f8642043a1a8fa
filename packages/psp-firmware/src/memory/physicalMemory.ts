import { PAGE_SIZE } from '@snp-ref/rmp-core';
import { LengthError } from '../errors.js';
import { MemoryEncryption } from './encryption.js';

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

/**
 * Host physical memory, page by page (only written pages take space), with SEV's memory
 * encryption. A guest's private pages are encrypted under its ASID's key: an unencrypted access
 * (`read`, the host's view) returns ciphertext, an access with the right key (`readPrivate`, C-bit
 * set) the plaintext, and with another key garbage. Pages are kept as plaintext plus the ASID whose
 * key encrypts them, and ciphertext is computed when something reads it that way: the same
 * observable memory, without a cipher pass on every private write (SNP_LAUNCH_UPDATE of a 1 GiB
 * guest would otherwise cost more than its measurement).
 *
 * RMP checks belong to the caller (rmp-core's checkHostAccess / checkGuestAccess); the firmware
 * accesses memory without them, as the PSP does.
 */
export class PhysicalMemory {
  private readonly pages = new Map<number, Buffer>();
  /** The ASID whose key encrypts a page; its bytes in `pages` are then the plaintext. */
  private readonly owners = new Map<number, number>();

  constructor(readonly encryption: MemoryEncryption) {}

  /** A host's memory, with memory keys derived from `seed`. */
  static create(seed: string): PhysicalMemory {
    return new PhysicalMemory(new MemoryEncryption(seed));
  }

  /** The raw 4096 bytes of a page as an unencrypted access sees them (a copy; zeros if never written). */
  read(pfn: number): Buffer {
    const bytes = this.pages.get(pfn);
    const owner = this.owners.get(pfn);
    if (owner !== undefined && bytes !== undefined) return this.encryption.encryptPage(owner, pfn, bytes);
    return Buffer.from(bytes ?? ZERO_PAGE);
  }

  /** Writes raw bytes at `offset` within the page (an unencrypted write: the page holds no plaintext after). */
  write(pfn: number, bytes: Uint8Array, offset = 0): void {
    if (offset < 0 || offset + bytes.length > PAGE_SIZE) {
      throw new LengthError(
        `a write at offset ${offset} of a page`,
        `at most ${PAGE_SIZE - offset}`,
        bytes.length,
      );
    }
    this.rawPage(pfn).set(bytes, offset);
  }

  /** The page as the owner of `asid` reads it through an encrypted mapping. */
  readPrivate(asid: number, pfn: number): Buffer {
    const bytes = this.pages.get(pfn) ?? ZERO_PAGE;
    if (this.owners.get(pfn) === asid) return Buffer.from(bytes);
    return this.encryption.decryptPage(asid, pfn, this.owners.has(pfn) ? this.read(pfn) : bytes);
  }

  /** Stores `plaintext` (a whole page) encrypted under `asid`. */
  writePrivate(asid: number, pfn: number, plaintext: Uint8Array): void {
    if (plaintext.length !== PAGE_SIZE)
      throw new LengthError('a private page write', '4096', plaintext.length);
    this.pages.set(pfn, Buffer.from(plaintext));
    this.owners.set(pfn, asid);
  }

  /**
   * Encrypts the page in place under `asid`, as SNP_LAUNCH_UPDATE does: its current raw contents
   * become the guest's plaintext.
   */
  encryptInPlace(asid: number, pfn: number): void {
    this.rawPage(pfn);
    this.owners.set(pfn, asid);
  }

  /**
   * The raw bytes of a page without copying, for the firmware to measure; valid until the next
   * write. Zeros for a page never written.
   */
  peek(pfn: number): Uint8Array {
    return this.owners.has(pfn) ? this.read(pfn) : (this.pages.get(pfn) ?? ZERO_PAGE);
  }

  /** The page's raw bytes, made mutable: ciphertext materialised if it was encrypted. */
  private rawPage(pfn: number): Buffer {
    let page = this.pages.get(pfn);
    if (page !== undefined && this.owners.has(pfn)) {
      page = this.read(pfn);
      this.pages.set(pfn, page);
      this.owners.delete(pfn);
    } else if (page === undefined) {
      page = Buffer.alloc(PAGE_SIZE);
      this.pages.set(pfn, page);
    }
    return page;
  }
}
