import { hash } from 'node:crypto';
import { PAGE_SIZE } from '@snp-ref/rmp-core';
import { copyBytes } from '../bytes.js';
import { LengthError } from '../errors.js';
import { isContentMeasured, PageType } from '../pageType.js';

/** SHA-384 digest size: the launch digest and each page's CONTENTS. */
export const DIGEST_BYTES = 48;

/**
 * PAGE_INFO, the 0x70-byte structure hashed per measured page (SNP firmware ABI, "PAGE_INFO";
 * offsets as sev-snp-measure gctx.py lays them out, docs/spec-notes.md §2.7).
 */
export const PageInfo = {
  BYTES: 0x70,
  DIGEST_CUR: 0x00,
  CONTENTS: 0x30,
  LENGTH: 0x60,
  PAGE_TYPE: 0x62,
  IMI_PAGE: 0x63,
  VMPL3_PERMS: 0x64,
  VMPL2_PERMS: 0x65,
  VMPL1_PERMS: 0x66,
  GPA: 0x68,
} as const;

/**
 * The GPA field of every VMSA page: the firmware records VMSAs at this fixed address whatever gpa
 * the VMM used (sev-snp-measure gctx.py; KVM's INITIAL_VMSA_GPA in arch/x86/kvm/svm/sev.c).
 */
export const VMSA_GPA = 0xffff_ffff_f000;

/** The per-page fields of PAGE_INFO besides type and gpa; all zero unless LAUNCH_UPDATE sets them. */
export interface PageInfoOptions {
  readonly imiPage?: boolean;
  /** VMPL1..3 permission masks, in that order. */
  readonly vmplPerms?: readonly [number, number, number];
}

const NO_CONTENTS = new Uint8Array(DIGEST_BYTES);

/** One measured page, as an observer of LaunchDigest sees it (the measurement log). */
export interface MeasuredPage {
  readonly type: PageType;
  /** The GPA recorded in PAGE_INFO (VMSA_GPA for VMSA pages). */
  readonly gpa: number;
  /** PAGE_INFO CONTENTS: SHA-384 of the page, or 48 zero bytes for types whose contents are not measured. */
  readonly contents: Uint8Array;
  readonly before: Uint8Array;
  readonly after: Uint8Array;
  /** The page itself when the caller passed it (not for pages hashed on worker threads); valid during the call. */
  readonly page?: Uint8Array;
}

/** Hashes pages and hands back each page's SHA-384 in page order (ParallelPageHasher). */
export interface PageHasher {
  /**
   * Hashes `pages` (a multiple of 4096 bytes) and calls `each` with every page's index and where its SHA-384
   * lies in `hashes`, in page order.
   */
  hashPages(pages: Uint8Array, each: (index: number, hashes: Buffer, offset: number) => void): void;
}

/**
 * The launch digest: 48 zero bytes, then for every measured page LD := SHA-384(PAGE_INFO) with
 * PAGE_INFO's DIGEST_CUR = LD. Bit-exact with sev-snp-measure (test/vectors).
 */
export class LaunchDigest {
  /** The PAGE_INFO of the next page; its first 48 bytes always hold the current digest. */
  private readonly info = Buffer.alloc(PageInfo.BYTES);
  /** Called after every measured page, for measurement logs; costs nothing when unset. */
  onPage: ((page: MeasuredPage) => void) | undefined;

  constructor(initial?: Uint8Array) {
    this.info.writeUInt16LE(PageInfo.BYTES, PageInfo.LENGTH);
    if (initial !== undefined) {
      if (initial.length !== DIGEST_BYTES)
        throw new LengthError('initial launch digest', '48', initial.length);
      this.info.set(initial, PageInfo.DIGEST_CUR);
    }
  }

  /** The current digest (a copy). */
  digest(): Uint8Array {
    return copyBytes(this.info, 0, DIGEST_BYTES);
  }

  /** The current digest as 96 lowercase hex digits. */
  hex(): string {
    return this.info.toString('hex', 0, DIGEST_BYTES);
  }

  /**
   * Measures one page as SNP_LAUNCH_UPDATE does: NORMAL and VMSA pages by SHA-384 of `page`
   * (4096 bytes), the other types by 48 zero bytes; VMSA pages at VMSA_GPA.
   */
  update(type: PageType, gpa: number, page?: Uint8Array, options?: PageInfoOptions): void {
    if (!isContentMeasured(type)) {
      this.extend(type, gpa, NO_CONTENTS, options);
      return;
    }
    if (page?.length !== PAGE_SIZE) throw new LengthError('a measured page', '4096', page?.length ?? 0);
    // A binary (latin1) string is the cheapest way out of crypto.hash on Node 20 (a Buffer result costs twice as much).
    this.info.write(hash('sha384', page, 'binary'), PageInfo.CONTENTS, 'latin1');
    this.chain(type, gpa, options, page);
  }

  /**
   * Measures consecutive pages of one type from `gpa` upwards, as LAUNCH_UPDATE over a range does:
   * `bytes` holds the pages' contents (for NORMAL and VMSA) and must be a whole number of pages.
   */
  updatePages(type: PageType, gpa: number, bytes: Uint8Array, options?: PageInfoOptions): void {
    if (bytes.length % PAGE_SIZE !== 0) {
      throw new LengthError('a range of pages', 'a multiple of 4096', bytes.length);
    }
    for (let at = 0; at < bytes.length; at += PAGE_SIZE) {
      this.update(type, gpa + at, bytes.subarray(at, at + PAGE_SIZE), options);
    }
  }

  /**
   * updatePages with the page hashes computed on worker threads: the same digest, faster for
   * large ranges of NORMAL (or VMSA) pages. Other page types have nothing to hash.
   */
  updatePagesParallel(
    hasher: PageHasher,
    type: PageType,
    gpa: number,
    bytes: Uint8Array,
    options?: PageInfoOptions,
  ): void {
    if (!isContentMeasured(type)) {
      this.updatePages(type, gpa, bytes, options);
      return;
    }
    hasher.hashPages(bytes, (index, hashes, offset) => {
      hashes.copy(this.info, PageInfo.CONTENTS, offset, offset + DIGEST_BYTES); // Buffer#copy: fast from shared memory
      this.chain(type, gpa + index * PAGE_SIZE, options);
    });
  }

  /** Measures a page whose CONTENTS (SHA-384 of the page, or zeros) is already known. */
  extend(type: PageType, gpa: number, contents: Uint8Array, options?: PageInfoOptions): void {
    if (contents.length !== DIGEST_BYTES) throw new LengthError('PAGE_INFO CONTENTS', '48', contents.length);
    this.info.set(contents, PageInfo.CONTENTS);
    this.chain(type, gpa, options);
  }

  private chain(type: PageType, gpa: number, options: PageInfoOptions | undefined, page?: Uint8Array): void {
    const info = this.info;
    const before = this.onPage && this.digest();
    const recorded = type === PageType.VMSA ? VMSA_GPA : gpa;
    info[PageInfo.PAGE_TYPE] = type;
    info[PageInfo.IMI_PAGE] = options?.imiPage === true ? 1 : 0;
    const [vmpl1, vmpl2, vmpl3] = options?.vmplPerms ?? [0, 0, 0];
    info[PageInfo.VMPL3_PERMS] = vmpl3;
    info[PageInfo.VMPL2_PERMS] = vmpl2;
    info[PageInfo.VMPL1_PERMS] = vmpl1;
    info.writeUInt32LE(recorded % 2 ** 32, PageInfo.GPA);
    info.writeUInt32LE(Math.floor(recorded / 2 ** 32), PageInfo.GPA + 4);
    info.write(hash('sha384', info, 'binary'), PageInfo.DIGEST_CUR, 'latin1');
    if (before !== undefined) {
      const contents = copyBytes(info, PageInfo.CONTENTS, PageInfo.CONTENTS + DIGEST_BYTES);
      this.onPage?.({ type, gpa: recorded, contents, before, after: this.digest(), ...(page && { page }) });
    }
  }
}
