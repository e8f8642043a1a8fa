/** Pages per chunk: a 2 MiB region, so a 1 GiB guest is 512 chunks. */
const CHUNK_PAGES = 512;

/**
 * A map from page numbers (pfns, or a VMM's virtual page numbers, below 2^53) to values, for the
 * per-page state of large hosts. A Map with an entry per page costs a chain of cache misses per
 * lookup once it holds hundreds of thousands of pages, and a launch update looks pages up several
 * times each. Here pages are grouped in chunks of 512 consecutive numbers, found through a Map of
 * chunks (512 for a 1 GiB guest) and then indexed, and the last two chunks used are remembered:
 * walking pages in order stays in them. Only chunks that held a value take space.
 * Values are never undefined (undefined reads as "no value").
 */
export class PageMap<T extends NonNullable<unknown>> {
  private readonly chunks = new Map<number, Chunk<T>>();
  private stored = 0;
  // The two chunks used last: a launch walks pages in order, often two ranges in step (source and destination).
  private lastNumber = -1;
  private last: Chunk<T> | undefined;
  private otherNumber = -1;
  private other: Chunk<T> | undefined;

  /** How many pages hold a value. */
  get size(): number {
    return this.stored;
  }

  /** The value of `page`, or undefined. */
  get(page: number): T | undefined {
    const number = Math.floor(page / CHUNK_PAGES);
    return this.chunk(number)?.values[page - number * CHUNK_PAGES];
  }

  /** Whether `page` holds a value. */
  has(page: number): boolean {
    return this.get(page) !== undefined;
  }

  /** Sets the value of `page`; throws RangeError (a model bug) unless it is a non-negative safe integer. */
  set(page: number, value: T): void {
    if (!Number.isSafeInteger(page) || page < 0) throw new RangeError(`${page} is not a page number`);
    const number = Math.floor(page / CHUNK_PAGES);
    let chunk = this.chunk(number);
    if (chunk === undefined) {
      chunk = { values: new Array<T | undefined>(CHUNK_PAGES).fill(undefined), count: 0 };
      this.chunks.set(number, chunk);
      this.remember(number, chunk);
    }
    const at = page - number * CHUNK_PAGES;
    if (chunk.values[at] === undefined) {
      chunk.count++;
      this.stored++;
    }
    chunk.values[at] = value;
  }

  /** Removes the value of `page`; false if it had none. A chunk left empty is dropped. */
  delete(page: number): boolean {
    const number = Math.floor(page / CHUNK_PAGES);
    const chunk = this.chunk(number);
    const at = page - number * CHUNK_PAGES;
    if (chunk?.values[at] === undefined) return false;
    chunk.values[at] = undefined;
    this.stored--;
    if (--chunk.count === 0) this.drop(number);
    return true;
  }

  /** Every page that holds a value, with it, in ascending page order. */
  *entries(): IterableIterator<[page: number, value: T]> {
    for (const number of [...this.chunks.keys()].sort((a, b) => a - b)) {
      const values = this.chunks.get(number)?.values ?? [];
      for (let at = 0; at < CHUNK_PAGES; at++) {
        const value = values[at];
        if (value !== undefined) yield [number * CHUNK_PAGES + at, value];
      }
    }
  }

  /** The values, in ascending page order. */
  *values(): IterableIterator<T> {
    for (const [, value] of this.entries()) yield value;
  }

  /** The pages holding a value with their values, as {@link PageMap.entries}: `for (const [page, value] of map)`. */
  [Symbol.iterator](): IterableIterator<[page: number, value: T]> {
    return this.entries();
  }

  private chunk(number: number): Chunk<T> | undefined {
    if (number === this.lastNumber) return this.last;
    if (number === this.otherNumber) return this.other;
    const chunk = this.chunks.get(number);
    if (chunk !== undefined) this.remember(number, chunk);
    return chunk;
  }

  private remember(number: number, chunk: Chunk<T>): void {
    this.otherNumber = this.lastNumber;
    this.other = this.last;
    this.lastNumber = number;
    this.last = chunk;
  }

  /** Forgets an empty chunk, so that iterating skips it (pinned pages, asked for after every fuzzer step). */
  private drop(number: number): void {
    this.chunks.delete(number);
    if (this.lastNumber === number) [this.lastNumber, this.last] = [-1, undefined];
    if (this.otherNumber === number) [this.otherNumber, this.other] = [-1, undefined];
  }
}

/** 512 consecutive pages' values, and how many are set. */
interface Chunk<T> {
  readonly values: (T | undefined)[];
  count: number;
}
