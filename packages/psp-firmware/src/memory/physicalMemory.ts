import { PAGE_SIZE, PageMap } from '@snp-ref/rmp-core';
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
  /**
   * Every written page, one record each: SNP_LAUNCH_UPDATE of a large guest reads and encrypts every
   * page, and one lookup per access (not one for the bytes and one for the owner) in a PageMap (not
   * a Map of a million entries) keeps that cheap.
   */
  private readonly pages = new PageMap<StoredPage>();

  constructor(readonly encryption: MemoryEncryption) {}

  /** A host's memory, with memory keys derived from `seed`. */
  static create(seed: string): PhysicalMemory {
    return new PhysicalMemory(new MemoryEncryption(seed));
  }

  /** The raw 4096 bytes of a page as an unencrypted access sees them (a copy; zeros if never written). */
  read(pfn: number): Buffer {
    const page = this.pages.get(pfn);
    if (page === undefined) return Buffer.from(ZERO_PAGE);
    if (page.owner !== undefined) return this.encryption.encryptPage(page.owner, pfn, page.bytes);
    return Buffer.from(page.bytes);
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
    this.rawPage(pfn).bytes.set(bytes, offset);
  }

  /** The page as the owner of `asid` reads it through an encrypted mapping. */
  readPrivate(asid: number, pfn: number): Buffer {
    const page = this.pages.get(pfn);
    if (page !== undefined && page.owner === asid) return Buffer.from(page.bytes);
    const raw = page === undefined ? ZERO_PAGE : page.owner === undefined ? page.bytes : this.read(pfn);
    return this.encryption.decryptPage(asid, pfn, raw);
  }

  /** Stores `plaintext` (a whole page) encrypted under `asid`. */
  writePrivate(asid: number, pfn: number, plaintext: Uint8Array): void {
    if (plaintext.length !== PAGE_SIZE)
      throw new LengthError('a private page write', '4096', plaintext.length);
    this.pages.set(pfn, { bytes: Buffer.from(plaintext), owner: asid });
  }

  /**
   * Encrypts the page in place under `asid`, as SNP_LAUNCH_UPDATE does: its current raw contents
   * become the guest's plaintext.
   */
  encryptInPlace(asid: number, pfn: number): void {
    this.rawPage(pfn).owner = asid;
  }

  /**
   * The raw bytes of a page without copying, for the firmware to measure; valid until the next
   * write. Zeros for a page never written.
   */
  peek(pfn: number): Uint8Array {
    const page = this.pages.get(pfn);
    if (page === undefined) return ZERO_PAGE;
    return page.owner === undefined ? page.bytes : this.read(pfn);
  }

  /** The page's record, its raw bytes made mutable: ciphertext materialised if it was encrypted. */
  private rawPage(pfn: number): StoredPage {
    let page = this.pages.get(pfn);
    if (page === undefined) {
      page = { bytes: Buffer.alloc(PAGE_SIZE), owner: undefined };
      this.pages.set(pfn, page);
    } else if (page.owner !== undefined) {
      page.bytes = this.encryption.encryptPage(page.owner, pfn, page.bytes);
      page.owner = undefined;
    }
    return page;
  }
}

/** A written page: its bytes, and the ASID whose key encrypts it (its bytes are then the plaintext). */
interface StoredPage {
  bytes: Buffer;
  owner: number | undefined;
}
