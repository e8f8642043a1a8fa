// Deterministic OVMF-like images: same spec, same bytes on every machine. For tests, hostile-input
// corpora and comparisons with other tools where a real firmware lacks a feature (Debian's OVMF
// has no SNP_KERNEL_HASHES section).

import { SeededPages } from '../measure/plan.js';
import { guidBytes } from './guid.js';
import { OvmfGuid, SectionType, type SectionTypeName } from './image.js';

/** A deterministic OVMF-like image: its seed, size and SEV metadata sections. */
export interface SyntheticOvmfSpec {
  readonly seed: string;
  readonly pages: number;
  readonly sections: readonly {
    readonly gpa: number;
    readonly size: number;
    readonly type: SectionTypeName;
  }[];
  readonly resetEip?: number;
  readonly hashesTableGpa?: number;
  /** A Coconut SVSM's SVSM_INFO entry: the entry point's offset in the image. */
  readonly svsmEntry?: number;
}

/** Pseudo-random bytes from the plan content stream (SeededPages), `length` long. */
export function seededBytes(seed: string, length: number): Uint8Array {
  const stream = new SeededPages(seed);
  const out = new Uint8Array(Math.ceil(length / 4096) * 4096);
  for (let at = 0; at < out.length; at += 4096) out.set(stream.next(), at);
  return out.subarray(0, length);
}

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u16 = (n: number) => new Uint8Array(new Uint16Array([n]).buffer);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};
/** A footer table entry: data, u16 size of the whole entry, GUID. */
const entry = (guid: string, data: Uint8Array) => concat(data, u16(data.length + 18), guidBytes(guid));

/**
 * An image with seeded contents, SEV metadata 0x1000 bytes from the end, and a footer table
 * (reset block, hashes table, SVSM info, metadata) ending 32 bytes before the end, as edk2 lays them out.
 */
export function buildOvmfImage(spec: SyntheticOvmfSpec): Uint8Array {
  const image = seededBytes(spec.seed, spec.pages * 4096);
  const metadataFromEnd = 0x1000;
  const metadata = concat(
    new TextEncoder().encode('ASEV'),
    u32(16 + 12 * spec.sections.length),
    u32(1),
    u32(spec.sections.length),
    ...spec.sections.flatMap((s) => [u32(s.gpa), u32(s.size), u32(SectionType[s.type])]),
  );
  image.set(metadata, image.length - metadataFromEnd);
  const entries = concat(
    ...(spec.resetEip === undefined ? [] : [entry(OvmfGuid.SEV_ES_RESET_BLOCK, u32(spec.resetEip))]),
    ...(spec.hashesTableGpa === undefined
      ? []
      : [entry(OvmfGuid.SEV_HASH_TABLE_RV, concat(u32(spec.hashesTableGpa), u32(0x400)))]),
    ...(spec.svsmEntry === undefined ? [] : [entry(OvmfGuid.SVSM_INFO, u32(spec.svsmEntry))]),
    entry(OvmfGuid.SEV_METADATA, u32(metadataFromEnd)),
  );
  const table = concat(entries, u16(entries.length + 18), guidBytes(OvmfGuid.FOOTER_TABLE));
  image.set(table, image.length - 32 - table.length);
  return image;
}
