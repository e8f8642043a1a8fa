import { type EntryWords, entryFromWords, entryToWords, type RmpEntry } from './entry.js';
import { RmpHostSizeError, RmpPfnRangeError } from './errors.js';
import { TransitionTrace } from './trace/transitionTrace.js';

/** Pages per storage segment: small, so scattered pages cost little (README "What is in it": ≤ 16 B/page). */
const SEGMENT_SHIFT = 4;
const SEGMENT_PAGES = 1 << SEGMENT_SHIFT;
const PAGE_IN_SEGMENT = SEGMENT_PAGES - 1;
/** Stored words per entry: W0, W1, W2 (layout.ts); the fourth word is reserved and never stored. */
export const WORDS_PER_ENTRY = 3;
const SEGMENT_WORDS = SEGMENT_PAGES * WORDS_PER_ENTRY;
/** Segments per 2 MiB region (512 pages); the first holds the region's head entry. */
const SEGMENTS_PER_2M_SHIFT = 9 - SEGMENT_SHIFT;
const HEAD_SEGMENT_MASK = (1 << SEGMENTS_PER_2M_SHIFT) - 1;
const EMPTY = -1;
/** Word offset of the zero segment every untracked page reads from. */
const ZERO_BASE = 0;

/** Largest host this table models: 2^32 pages (16 TiB), so every pfn is a uint32. */
export const MAX_HOST_PAGES = 2 ** 32;

/** The memory an RmpTable holds, for benchmarks. */
export interface RmpTableMemory {
  /** Pages whose segment has been allocated (a segment holds 16 consecutive pages). */
  readonly trackedPages: number;
  readonly segments: number;
  /** Bytes held by the table's typed arrays (entries, index, head bitmap). */
  readonly bytes: number;
}

/**
 * The RMP of a host with `hostPages` pages: one entry per 4 KiB page, all hypervisor-owned
 * (zero) at creation. Entries live in segments of 16 pages, allocated on the first non-zero
 * write and indexed by an open-addressing hash, so untouched pages cost nothing and a touched
 * one at most 12 bytes plus its share of the index.
 */
export class RmpTable {
  /** Every RMP change goes through here when traced; see trace/transitionTrace.ts. */
  readonly trace = new TransitionTrace();

  private slab: Uint32Array;
  private usedWords = SEGMENT_WORDS; // the zero segment
  /** Open-addressing index: slot i holds a segment number at 2i and its slab offset at 2i + 1, one cache line per probe. */
  private index: Int32Array;
  private slotMask: number;
  private hashShift: number;
  private segmentCount = 0;
  // Two most recently used segments: instructions alternate between a page and its 2 MiB-aligned head.
  private cachedSegment = EMPTY;
  private cachedBase = ZERO_BASE;
  private otherSegment = EMPTY;
  private otherBase = ZERO_BASE;
  /**
   * One bit per 2 MiB region, set once the segment of its head entry is allocated: the page-size
   * check of every 4 KiB operation reads the head (access.ts inTwoMegPage), and this answers the
   * usual "never written" without probing the hash. hostPages / 4096 bytes: 64 KiB for 1 TiB.
   */
  private readonly headTracked: Uint8Array;

  private constructor(readonly hostPages: number) {
    this.headTracked = new Uint8Array(Math.ceil(hostPages / 512 / 8));
    this.slab = new Uint32Array(SEGMENT_WORDS * 64);
    this.hashShift = 32 - 8;
    this.index = newIndex(1 << 8);
    this.slotMask = (1 << 8) - 1;
  }

  /**
   * An empty table covering `hostPages` 4 KiB pages.
   * @throws RmpHostSizeError when `hostPages` is not an integer from 1 to {@link MAX_HOST_PAGES}.
   */
  static create(hostPages: number): RmpTable {
    if (!Number.isInteger(hostPages) || hostPages < 1 || hostPages > MAX_HOST_PAGES) {
      throw new RmpHostSizeError(hostPages, MAX_HOST_PAGES);
    }
    return new RmpTable(hostPages);
  }

  /** True if pfn names a page of this host. */
  has(pfn: number): boolean {
    return pfn >= 0 && pfn < this.hostPages && Number.isInteger(pfn);
  }

  /** Throws RmpPfnRangeError unless pfn names a page of this host. */
  checkPfn(pfn: number): void {
    if (!this.has(pfn)) throw new RmpPfnRangeError(pfn, this.hostPages);
  }

  /** The decoded entry of a page. */
  read(pfn: number): RmpEntry {
    this.checkPfn(pfn);
    const at = this.offsetOf(pfn);
    const words = this.slab;
    return entryFromWords(words[at] ?? 0, words[at + 1] ?? 0, words[at + 2] ?? 0);
  }

  /**
   * Overwrites an entry with no architectural checks: what the firmware and RMP
   * initialisation do. Use the instructions (rmpupdate, psmash, …) for everything else.
   */
  write(pfn: number, entry: RmpEntry): void {
    this.checkPfn(pfn);
    const [w0, w1, w2] = entryToWords(entry);
    this.store(pfn, w0, w1, w2);
  }

  /** Non-zero entries in ascending pfn order. */
  *entries(): IterableIterator<[pfn: number, entry: RmpEntry]> {
    const segments: number[] = [];
    for (let i = 0; i < this.index.length; i += 2) {
      const key = this.index[i] ?? EMPTY;
      if (key !== EMPTY) segments.push(key);
    }
    segments.sort((a, b) => a - b);
    for (const segment of segments) {
      for (let page = 0; page < SEGMENT_PAGES; page++) {
        const pfn = segment * SEGMENT_PAGES + page;
        const [w0, w1, w2] = this.wordsOf(pfn);
        if ((w0 | w1 | w2) !== 0) yield [pfn, entryFromWords(w0, w1, w2)];
      }
    }
  }

  /** The memory the table holds now. */
  memory(): RmpTableMemory {
    return {
      trackedPages: this.segmentCount * SEGMENT_PAGES,
      segments: this.segmentCount,
      bytes: this.slab.byteLength + this.index.byteLength + this.headTracked.byteLength,
    };
  }

  /** @internal The stored words of a page (zeros if never written). pfn must be in range. */
  wordsOf(pfn: number): EntryWords {
    const at = this.offsetOf(pfn);
    const words = this.slab;
    return [words[at] ?? 0, words[at + 1] ?? 0, words[at + 2] ?? 0];
  }

  /** @internal W0 of a page; see layout.ts. pfn must be in range. */
  w0(pfn: number): number {
    return this.slab[this.offsetOf(pfn)] ?? 0;
  }

  /** @internal W1 of a page. */
  w1(pfn: number): number {
    return this.slab[this.offsetOf(pfn) + 1] ?? 0;
  }

  /**
   * @internal True if any page in [from, to) has a bit of `mask` set in W0. Walks segment by
   * segment, so untracked stretches cost one lookup per 16 pages. Pages must be in range.
   */
  anyW0(from: number, to: number, mask: number): boolean {
    for (let pfn = from; pfn < to; ) {
      const segmentEnd = Math.min(to, (pfn | PAGE_IN_SEGMENT) + 1);
      const at = this.offsetOf(pfn);
      if (at >= SEGMENT_WORDS) {
        const words = this.slab;
        for (let w = at; pfn < segmentEnd; pfn++, w += WORDS_PER_ENTRY)
          if (((words[w] ?? 0) & mask) !== 0) return true;
      }
      pfn = segmentEnd;
    }
    return false;
  }

  /** @internal W2 of a page. */
  w2(pfn: number): number {
    return this.slab[this.offsetOf(pfn) + 2] ?? 0;
  }

  /** @internal Stores a page's words, allocating its segment on the first non-zero write. */
  store(pfn: number, w0: number, w1: number, w2: number): void {
    let at = this.offsetOf(pfn);
    if (at < SEGMENT_WORDS) {
      if ((w0 | w1 | w2) === 0) return; // untracked stays untracked
      at = this.allocate(pfn >>> SEGMENT_SHIFT) + (pfn & PAGE_IN_SEGMENT) * WORDS_PER_ENTRY;
    }
    const words = this.slab;
    words[at] = w0;
    words[at + 1] = w1;
    words[at + 2] = w2;
  }

  /** Word offset of a page's entry; inside the zero segment for untracked pages. */
  private offsetOf(pfn: number): number {
    const segment = pfn >>> SEGMENT_SHIFT;
    const inSegment = (pfn & PAGE_IN_SEGMENT) * WORDS_PER_ENTRY;
    if (segment === this.cachedSegment) return this.cachedBase + inSegment;
    if (segment === this.otherSegment) return this.otherBase + inSegment;
    return this.lookup(segment) + inSegment;
  }

  private lookup(segment: number): number {
    if ((segment & HEAD_SEGMENT_MASK) === 0 && !this.isHeadTracked(segment)) return ZERO_BASE;
    const index = this.index;
    const mask = this.slotMask;
    for (let slot = this.hash(segment); ; slot = (slot + 1) & mask) {
      const key = index[2 * slot];
      if (key === segment) return this.remember(segment, index[2 * slot + 1] ?? ZERO_BASE);
      if (key === EMPTY) return ZERO_BASE;
    }
  }

  private allocate(segment: number): number {
    if (this.usedWords + SEGMENT_WORDS > this.slab.length) {
      // Grow by 1/8 (at least 64 segments): amortised O(1) copying, at most 12.5 % slack.
      const segments = this.slab.length / SEGMENT_WORDS;
      const grown = new Uint32Array((segments + Math.max(64, segments >>> 3)) * SEGMENT_WORDS);
      grown.set(this.slab);
      this.slab = grown;
    }
    if (4 * (this.segmentCount + 1) > 3 * (this.slotMask + 1)) this.rehash(); // load ≤ 3/4
    const base = this.usedWords;
    this.usedWords += SEGMENT_WORDS;
    this.insert(segment, base);
    this.segmentCount++;
    if ((segment & HEAD_SEGMENT_MASK) === 0) {
      const region = segment >>> SEGMENTS_PER_2M_SHIFT;
      this.headTracked[region >>> 3] = (this.headTracked[region >>> 3] ?? 0) | (1 << (region & 7));
    }
    return this.remember(segment, base);
  }

  private isHeadTracked(segment: number): boolean {
    const region = segment >>> SEGMENTS_PER_2M_SHIFT;
    return ((this.headTracked[region >>> 3] ?? 0) & (1 << (region & 7))) !== 0;
  }

  private remember(segment: number, base: number): number {
    this.otherSegment = this.cachedSegment;
    this.otherBase = this.cachedBase;
    this.cachedSegment = segment;
    this.cachedBase = base;
    return base;
  }

  private insert(segment: number, base: number): void {
    const index = this.index;
    let slot = this.hash(segment);
    while (index[2 * slot] !== EMPTY) slot = (slot + 1) & this.slotMask;
    index[2 * slot] = segment;
    index[2 * slot + 1] = base;
  }

  private rehash(): void {
    const old = this.index;
    this.slotMask = this.slotMask * 2 + 1;
    this.index = newIndex(this.slotMask + 1);
    this.hashShift--;
    for (let i = 0; i < old.length; i += 2) {
      const key = old[i] ?? EMPTY;
      if (key !== EMPTY) this.insert(key, old[i + 1] ?? ZERO_BASE);
    }
  }

  /** Fibonacci hashing: the top bits of segment × 2^32/φ. */
  private hash(segment: number): number {
    return Math.imul(segment, 0x9e37_79b1) >>> this.hashShift;
  }
}

function newIndex(slots: number): Int32Array {
  const index = new Int32Array(2 * slots);
  for (let i = 0; i < index.length; i += 2) index[i] = EMPTY;
  return index;
}
