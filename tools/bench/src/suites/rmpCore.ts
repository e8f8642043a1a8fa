import {
  emptyRmpReadOutput,
  HostRmp,
  RMP_ENTRY_BYTES,
  type RmpState,
  RmpTable,
  rmpquery,
  rmpread,
  TraceRing,
} from '@snp-ref/rmp-core';
import type { Figure } from '../figure.js';
import { BATCH, opsPerSecond } from '../throughput.js';

const HOST_PAGES = 2 ** 20; // a 4 GiB host
const TIB_PAGES = 2 ** 28;
const SCATTERED_PAGES = 100_000;
const SEED = 0x5eed;

/** Deterministic scattered pfns below `limit` (an LCG from SEED): a cache-hostile worst case. */
function scatteredPfns(count: number, limit: number): Uint32Array {
  const pfns = new Uint32Array(count);
  let x = SEED;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    pfns[i] = x % limit;
  }
  return pfns;
}

/** BATCH consecutive pfns from a 2 MiB boundary: the order LAUNCH_UPDATE walks guest memory in. */
function launchPfns(): Uint32Array {
  return Uint32Array.from({ length: BATCH }, (_, i) => 0x4_0000 + i);
}

const privateState: RmpState = { gpa: 0x10_0000, assigned: true, pageSize: '4K', immutable: false, asid: 1 };
const sharedState: RmpState = { gpa: 0, assigned: false, pageSize: '4K', immutable: false, asid: 0 };

/** A task that flips every page of `pfns` private, then (next call) all back to hypervisor-owned. */
function rmpupdateTask(host: HostRmp, pfns: Uint32Array): () => void {
  let toPrivate = true;
  return () => {
    const state = toPrivate ? privateState : sharedState;
    for (let i = 0; i < BATCH; i++) host.rmpupdate(pfns[i] ?? 0, state, 'bench');
    toPrivate = !toPrivate;
  };
}

/** The reference for writes: 16 bytes stored per op into a flat Uint32Array RMP, as the hardware lays it out. */
function flatStoreTask(flat: Uint32Array, pfns: Uint32Array): () => void {
  let toggle = 1;
  return () => {
    for (let i = 0; i < BATCH; i++) {
      const at = (pfns[i] ?? 0) * 4;
      flat[at] = toggle;
      flat[at + 1] = toggle << 19;
      flat[at + 2] = 0;
      flat[at + 3] = 0;
    }
    toggle ^= 1;
  };
}

/** Reads feed it so the JIT cannot drop them. */
const blackhole = { value: 0 };

/** The reference for reads: the three stored words of each entry from a flat Uint32Array RMP. */
function flatReadTask(flat: Uint32Array, pfns: Uint32Array): () => void {
  return () => {
    for (let i = 0; i < BATCH; i++) {
      const at = (pfns[i] ?? 0) * 4;
      blackhole.value ^= (flat[at] ?? 0) ^ (flat[at + 1] ?? 0) ^ (flat[at + 2] ?? 0);
    }
  };
}

/** A HostRmp whose `pfns` are assigned to ASID 1, each at gpa = pfn × 4096. */
function populated(pfns: Uint32Array): HostRmp {
  const host = new HostRmp(RmpTable.create(HOST_PAGES));
  for (const pfn of pfns) host.rmpupdate(pfn, { ...privateState, gpa: pfn * 4096 }, 'bench');
  return host;
}

function rmpreadTask(host: HostRmp, pfns: Uint32Array): () => void {
  const out = emptyRmpReadOutput();
  return () => {
    for (let i = 0; i < BATCH; i++) blackhole.value ^= rmpread(host.table, pfns[i] ?? 0, out) ^ out.asid;
  };
}

function rmpqueryTask(host: HostRmp, pfns: Uint32Array): () => void {
  const guest = { asid: 1, vmpl: 0 } as const;
  return () => {
    for (let i = 0; i < BATCH; i++) {
      const pfn = pfns[i] ?? 0;
      const result = rmpquery(host.table, guest, { pfn, gpa: pfn * 4096, targetVmpl: 0 });
      blackhole.value ^= result.kind === 'ret' ? result.ret : 1;
    }
  };
}

/**
 * Targets (issue 3) apply in launch order, the order the model's callers (LAUNCH_UPDATE, page
 * state changes) touch memory in; the scattered runs, one page per 2 MiB region on average, show
 * the cost of a hash lookup per operation and carry no target.
 */
async function throughputFigures(): Promise<Figure[]> {
  const launch = launchPfns();
  const scattered = scatteredPfns(BATCH, HOST_PAGES);
  const flat = new Uint32Array(HOST_PAGES * 4);
  const traced = new HostRmp(RmpTable.create(HOST_PAGES));
  traced.table.trace.subscribe(new TraceRing().sink);
  const fresh = (options = {}) => new HostRmp(RmpTable.create(HOST_PAGES), options);

  const rate = await opsPerSecond({
    'store launch': flatStoreTask(flat, launch),
    'store scattered': flatStoreTask(flat, scattered),
    'read launch': flatReadTask(flat, launch),
    'read scattered': flatReadTask(flat, scattered),
    'rmpupdate launch': rmpupdateTask(fresh(), launch),
    'rmpupdate scattered': rmpupdateTask(fresh(), scattered),
    'rmpupdate traced': rmpupdateTask(traced, launch),
    'rmpupdate checked': rmpupdateTask(fresh({ rejectAssignedOnUpdate: true }), launch),
    'rmpread launch': rmpreadTask(populated(launch), launch),
    'rmpread scattered': rmpreadTask(populated(scattered), scattered),
    'rmpquery launch': rmpqueryTask(populated(launch), launch),
  });
  const r = (name: string) => rate[name] ?? Number.NaN;
  const ref = (name: string, task: string) => ({ name: `${name} (${task.split(' ')[1]})`, value: r(task) });
  const ops = 'ops/s';
  const figure = (name: string, task: string, reference: Figure['reference'], min?: number): Figure => ({
    name,
    value: r(task),
    unit: ops,
    reference,
    ...(min === undefined ? {} : { target: { min } }),
  });
  return [
    figure('rmpupdate, launch order', 'rmpupdate launch', ref('flat 16 B store', 'store launch'), 20e6),
    figure(
      'rmpupdate, scattered (worst case)',
      'rmpupdate scattered',
      ref('flat 16 B store', 'store scattered'),
    ),
    figure(
      'rmpupdate, TraceRing subscriber',
      'rmpupdate traced',
      ref('flat 16 B store', 'store launch'),
      5e6,
    ),
    figure('rmpupdate, rejectAssignedOnUpdate on', 'rmpupdate checked', {
      name: 'the check off',
      value: r('rmpupdate launch'),
    }),
    figure(
      'RMPREAD (host query), launch order',
      'rmpread launch',
      ref('flat 16 B read', 'read launch'),
      50e6,
    ),
    figure(
      'RMPREAD (host query), scattered (worst case)',
      'rmpread scattered',
      ref('flat 16 B read', 'read scattered'),
    ),
    figure('RMPQUERY (guest), launch order', 'rmpquery launch', ref('flat 16 B read', 'read launch')),
  ];
}

/** Heap and array-buffer bytes after a full GC (the bench runs with --expose-gc). */
function retainedBytes(): number {
  globalThis.gc?.();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** Bytes per tracked page when every page of a 2^16-page host is written. */
function densePageBytes(): number {
  const table = RmpTable.create(2 ** 16);
  for (let pfn = 0; pfn < 2 ** 16; pfn++) table.write(pfn, { ...table.read(pfn), assigned: true, asid: 1 });
  const { bytes, trackedPages } = table.memory();
  return bytes / trackedPages;
}

/** A 1 TiB host with SCATTERED_PAGES scattered pages written: the table's own count and the heap growth. */
function sparseHostBytes(): { table: number; heap: number } {
  const before = retainedBytes();
  const table = RmpTable.create(TIB_PAGES);
  for (const pfn of scatteredPfns(SCATTERED_PAGES, TIB_PAGES)) {
    table.write(pfn, { ...table.read(pfn), assigned: true, asid: 1 });
  }
  const heap = retainedBytes() - before;
  return { table: table.memory().bytes, heap }; // `table` stays reachable until after the second measurement
}

function memoryFigures(): Figure[] {
  const perPage = { name: 'hardware RMP, 16 B/page', value: RMP_ENTRY_BYTES };
  const fullRmp = { name: 'hardware RMP of 1 TiB', value: TIB_PAGES * RMP_ENTRY_BYTES };
  const sparse = sparseHostBytes();
  const limit = { max: 64 * 2 ** 20 };
  return [
    {
      name: 'bytes per tracked page (2^16 dense)',
      value: densePageBytes(),
      unit: 'B',
      reference: perPage,
      target: { max: RMP_ENTRY_BYTES },
    },
    {
      name: '1 TiB, 100k scattered pages: table',
      value: sparse.table,
      unit: 'B',
      reference: fullRmp,
      target: limit,
    },
    {
      name: '1 TiB, 100k scattered pages: heap',
      value: sparse.heap,
      unit: 'B',
      reference: fullRmp,
      target: limit,
    },
  ];
}

/** rmp-core's figures: the targets of the workspace and rmp-core issue. */
export async function rmpCoreFigures(): Promise<Figure[]> {
  return [...(await throughputFigures()), ...memoryFigures()];
}
