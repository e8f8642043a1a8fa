// Aligns two measured-step sequences and says how they differ, first difference first.
import { changesBehind, type FieldChange, fieldChangeText, versionText } from '@snp-ref/psp-firmware/measure';
import type { DiffStep, Place, StepSource } from './source.js';

type At = Place & { readonly type: string };
export type Difference =
  | (At & {
      kind: 'contents';
      a: number;
      b: number;
      contentsA: string;
      contentsB: string;
      byte?: ByteDifference;
      vmsa?: FieldDifference[];
      hashes?: EntryDifference[];
      /** A region of another size (and so, for the firmware, which ends at 4 GiB, at another gpa). */
      extent?: { a: Extent; b: Extent };
    })
  | (At & { kind: 'type'; a: number; b: number; typeB: string })
  | (At & { kind: 'missing'; a: number })
  | (At & { kind: 'extra'; b: number })
  | (At & { kind: 'moved'; a: number; b: number });

/** Where a region is and how long. */
export interface Extent {
  readonly bytes: number;
  readonly gpa?: number;
}

/** An entry of the SEV kernel hashes table (kernel, initrd, cmdline) with its SHA-256 on each side. */
export interface EntryDifference {
  readonly entry: string;
  readonly a: string;
  readonly b: string;
}

export interface ByteDifference {
  readonly offset: number;
  readonly a: number;
  readonly b: number;
  readonly count: number;
}
export interface FieldDifference {
  readonly field: string;
  readonly a: string;
  readonly b: string;
  /** Host-kernel changes of KVM's VMSA that turn one value into the other (hostKernel.ts). */
  readonly hostKernel?: readonly {
    kernel: string;
    commit: string;
    title: string;
    change: string;
    source: string;
  }[];
}

/** The host-kernel changes behind a difference of integer fields. */
function hostKernelChanges(field: string, a: string, b: string): Pick<FieldDifference, 'hostKernel'> {
  const integer = /^0x[0-9a-f]+$/i;
  if (!integer.test(a) || !integer.test(b)) return {};
  const changes = changesBehind(field, BigInt(a), BigInt(b));
  if (changes.length === 0) return {};
  return {
    hostKernel: changes.map((c) => ({
      kernel: versionText(c.kernel),
      commit: c.commit,
      title: c.title,
      change: fieldChangeText(c.fields[field] as FieldChange),
      source: c.source,
    })),
  };
}

export interface Comparison {
  readonly differences: readonly Difference[];
  /** Pages both sides measured (matched by gpa), or regions (by name). */
  readonly matched: number;
  readonly notes: readonly string[];
}

/**
 * Pages are matched by gpa and, for a gpa measured several times (VMSAs), by occurrence; SEV
 * regions by name.
 */
function keyed(steps: readonly DiffStep[]): string[] {
  const seen = new Map<string, number>();
  return steps.map((s) => {
    const at = s.region ?? String(s.gpa);
    const n = seen.get(at) ?? 0;
    seen.set(at, n + 1);
    return `${at}#${n}`;
  });
}

/** A step's place and type, as a difference carries them. */
const atOf = (s: DiffStep): At =>
  s.region === undefined
    ? { gpa: s.gpa, type: s.type }
    : { region: s.region, ...(s.gpa !== undefined && { gpa: s.gpa }), type: s.type };

function byteDifference(a: Uint8Array, b: Uint8Array): ByteDifference | undefined {
  let first = -1;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (first < 0) first = i;
    count++;
  }
  return first < 0 ? undefined : { offset: first, a: a[first] ?? 0, b: b[first] ?? 0, count };
}

/** A log's own value for `key` (a log is the user's file: "constructor" is a name like any other). */
const own = (record: Readonly<Record<string, string>>, key: string) =>
  Object.hasOwn(record, key) ? record[key] : undefined;

function fieldDifferences(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): FieldDifference[] {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return names
    .map((field) => ({ field, a: own(a, field) ?? '0x0', b: own(b, field) ?? '0x0' }))
    .filter((f) => f.a !== f.b)
    .map((f) => ({ ...f, ...hostKernelChanges(f.field, f.a, f.b) }));
}

/** The hashes table entries whose SHA-256 differs. */
function entryDifferences(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): EntryDifference[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .map((entry) => ({ entry, a: own(a, entry) ?? '', b: own(b, entry) ?? '' }))
    .filter((e) => e.a !== e.b);
}

const extentOf = ({ bytes = 0, gpa }: DiffStep): Extent => ({ bytes, ...(gpa !== undefined && { gpa }) });

/** Regions of another size or at another gpa: both extents. */
function extentDifference(x: DiffStep, y: DiffStep): { extent?: { a: Extent; b: Extent } } {
  if (x.region === undefined || (x.bytes === y.bytes && x.gpa === y.gpa)) return {};
  return { extent: { a: extentOf(x), b: extentOf(y) } };
}

function comparePages(x: DiffStep, y: DiffStep, a: number, b: number): Difference | undefined {
  const at = atOf(x);
  if (x.type !== y.type) return { kind: 'type', ...at, a, b, typeB: y.type };
  if (x.contents === undefined || y.contents === undefined || x.contents === y.contents) return undefined;
  const byte = x.page && y.page ? byteDifference(x.page, y.page) : undefined;
  const vmsa = x.vmsa && y.vmsa ? fieldDifferences(x.vmsa, y.vmsa) : undefined;
  const hashes = x.hashes && y.hashes ? entryDifferences(x.hashes, y.hashes) : undefined;
  return {
    kind: 'contents',
    ...at,
    a,
    b,
    contentsA: x.contents,
    contentsB: y.contents,
    ...(byte && { byte }),
    ...(vmsa && { vmsa }),
    ...(hashes && { hashes }),
    ...extentDifference(x, y),
  };
}

/** What B does differently from A, in A's order (pages only B has where B has them). */
export function compareSteps(sourceA: StepSource, sourceB: StepSource): Comparison {
  const notes: string[] = [];
  let [stepsA, stepsB] = [sourceA.steps, sourceB.steps];
  for (const [trace, other, name] of [
    [sourceA, sourceB, 'B'],
    [sourceB, sourceA, 'A'],
  ] as const) {
    if (trace.kind !== 'qemu-trace' || other.kind === 'qemu-trace') continue;
    notes.push(
      `${name === 'B' ? 'A' : 'B'} is a QEMU trace: it shows neither page contents nor the VMSAs KVM measures at LAUNCH_FINISH, so ${name}'s VMSA pages are left out and only gpas and types are compared`,
    );
    if (name === 'B') stepsB = stepsB.filter((s) => s.type !== 'VMSA');
    else stepsA = stepsA.filter((s) => s.type !== 'VMSA');
  }
  const keysA = keyed(stepsA);
  const keysB = keyed(stepsB);
  const indexB = new Map(keysB.map((k, j) => [k, j]));
  const matchedB = new Set<number>();
  const found: { position: number; difference: Difference }[] = [];
  let matched = 0;
  let furthestB = -1;
  for (const [i, x] of stepsA.entries()) {
    const j = indexB.get(keysA[i] ?? '');
    const y = j === undefined ? undefined : stepsB[j];
    if (j === undefined || y === undefined) {
      found.push({ position: i, difference: { kind: 'missing', ...atOf(x), a: i } });
      continue;
    }
    matched++;
    matchedB.add(j);
    if (j < furthestB) found.push({ position: i, difference: { kind: 'moved', ...atOf(x), a: i, b: j } });
    furthestB = Math.max(furthestB, j);
    const difference = comparePages(x, y, i, j);
    if (difference) found.push({ position: i, difference });
  }
  // A page only B measured sits, in A's order, right after the A page matched just before it in B.
  let lastA = -1;
  const aOfB = new Map<number, number>();
  for (const [i, k] of keysA.entries()) {
    const j = indexB.get(k);
    if (j !== undefined) aOfB.set(j, i);
  }
  for (const [j, y] of stepsB.entries()) {
    const i = aOfB.get(j);
    if (i !== undefined) lastA = Math.max(lastA, i);
    if (!matchedB.has(j))
      found.push({ position: lastA + 0.5, difference: { kind: 'extra', ...atOf(y), b: j } });
  }
  found.sort((p, q) => p.position - q.position);
  return { differences: found.map((f) => f.difference), matched, notes };
}
