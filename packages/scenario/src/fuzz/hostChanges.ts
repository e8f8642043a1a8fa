// What the host's pages were before a step changed them. The checker asks after every launch
// update whether any page but the call's own changed; copying the whole host (4 MiB of contents,
// each private page encrypted to read its raw bytes) before the call and comparing it all after
// took 40 % of a campaign. So a page's before-image is kept when it is first changed: every RMP
// change goes through RmpTable.store (rmp-core table.ts: the slab is private), every content
// change through PhysicalMemory's write, writePrivate and encryptInPlace (psp-firmware
// physicalMemory.ts: its pages are private). fuzz.test.ts checks it against a copy of the host.
import type { ScenarioSession } from '../session.js';

type Words = readonly [number, number, number];

/** Watches one machine; `start()` before a step, then ask which pages changed since. */
export class HostChanges {
  private recording = false;
  private stores = 0;
  private readonly entries = new Map<number, Words>();
  private readonly contents = new Map<number, Uint8Array>();

  constructor(private readonly machine: ScenarioSession['machine']) {
    const { rmp, memory } = machine;
    const { store } = rmp;
    rmp.store = (pfn, w0, w1, w2) => {
      this.stores++;
      if (this.recording && !this.entries.has(pfn))
        this.entries.set(pfn, [rmp.w0(pfn), rmp.w1(pfn), rmp.w2(pfn)]);
      store.call(rmp, pfn, w0, w1, w2);
    };
    const { write, writePrivate, encryptInPlace } = memory;
    memory.write = (pfn, bytes, offset) => {
      this.contentsWillChange(pfn);
      write.call(memory, pfn, bytes, offset);
    };
    memory.writePrivate = (asid, pfn, plaintext) => {
      this.contentsWillChange(pfn);
      writePrivate.call(memory, asid, pfn, plaintext);
    };
    memory.encryptInPlace = (asid, pfn) => {
      this.contentsWillChange(pfn);
      encryptInPlace.call(memory, asid, pfn);
    };
  }

  /** Counts the RMP writes: while it stands still, the RMP has not changed. */
  get rmpWrites(): number {
    return this.stores;
  }

  /** Forgets what was recorded and records from now on. */
  start(): this {
    this.entries.clear();
    this.contents.clear();
    this.recording = true;
    return this;
  }

  /** Records no more (until the next start). */
  stop(): void {
    this.recording = false;
  }

  /** The host's pages whose entry or contents may have changed since start, in ascending order. */
  changed(): number[] {
    const pfns = new Set([...this.entries.keys(), ...this.contents.keys()]);
    return [...pfns].filter((pfn) => this.machine.rmp.has(pfn)).sort((a, b) => a - b);
  }

  entryChanged(pfn: number): boolean {
    const was = this.entries.get(pfn);
    const { rmp } = this.machine;
    return was !== undefined && (rmp.w0(pfn) !== was[0] || rmp.w1(pfn) !== was[1] || rmp.w2(pfn) !== was[2]);
  }

  contentsChanged(pfn: number): boolean {
    const was = this.contents.get(pfn);
    return was !== undefined && Buffer.compare(this.machine.memory.peek(pfn), was) !== 0;
  }

  private contentsWillChange(pfn: number): void {
    if (this.recording && !this.contents.has(pfn))
      this.contents.set(pfn, new Uint8Array(this.machine.memory.peek(pfn)));
  }
}
