import { hex, PAGE_SIZE } from '@snp-ref/rmp-core';
import { OvmfError } from '../errors.js';
import { guidText } from './guid.js';

/** GUIDs of the OVMF footer table and its entries (edk2 OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm; QEMU hw/i386/pc_sysfw_ovmf.c). */
export const OvmfGuid = {
  FOOTER_TABLE: '96b582de-1fb2-45f7-baea-a366c55a082d',
  SEV_HASH_TABLE_RV: '7255371f-3a3b-4b04-927b-1da6efa8d454',
  SEV_ES_RESET_BLOCK: '00f771de-1a7e-4fcb-890e-68c77e2fb44e',
  SEV_METADATA: 'dc886566-984a-4798-a75e-5585a7bf67cc',
  /** Coconut-SVSM's entry: u32 offset of the SVSM's entry point from its start (coconut-svsm QEMU target/i386/sev.c; sev-snp-measure ovmf.py SVSM). */
  SVSM_INFO: 'a789a612-0597-4c4b-a49f-cbb1fe9d1ddd',
} as const;

/** SEV metadata section types (edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm). */
export const SectionType = {
  SNP_SEC_MEM: 1,
  SNP_SECRETS: 2,
  CPUID: 3,
  SVSM_CAA: 4,
  SNP_KERNEL_HASHES: 0x10,
} as const;
/** An SEV metadata section type by name (a key of {@link SectionType}). */
export type SectionTypeName = keyof typeof SectionType;

const SECTION_NAMES = new Map<number, SectionTypeName>(
  Object.entries(SectionType).map(([name, value]) => [value, name as SectionTypeName]),
);

/** A section of OVMF's SEV metadata: a guest physical range and what the launch puts there. */
export interface MetadataSection {
  readonly gpa: number;
  readonly size: number;
  readonly type: SectionTypeName;
}

/**
 * An OVMF image as parseOvmfImage read it: the bytes, where they are mapped, the footer table and the SEV
 * metadata.
 */
export interface OvmfImage {
  readonly bytes: Uint8Array;
  /** Where the image is mapped: it ends at 4 GiB (QEMU maps the flash just below 4 GiB), or where parseOvmfImage was told. */
  readonly gpa: number;
  /** Footer table entries by GUID (text form). */
  readonly table: ReadonlyMap<string, Uint8Array>;
  /** SEV metadata sections in table order; empty if the image has none. */
  readonly sections: readonly MetadataSection[];
  /** The APs' reset EIP from the SEV-ES reset block, if the image has one. */
  readonly sevEsResetEip: number | undefined;
  /** The guest address of the SEV hashes table (kernel/initrd/cmdline), if the image declares one. */
  readonly sevHashesTableGpa: number | undefined;
  /** A Coconut SVSM's entry point (its SVSM_INFO offset + gpa), if the image is one. */
  readonly svsmEntry: number | undefined;
}

const FOUR_GIB = 2 ** 32;
/** The footer table ends 32 bytes before the end of the image, right before the reset vector. */
const FOOTER_END_GAP = 32;
/** Each table entry ends with u16 size (of the whole entry) and the GUID. */
const ENTRY_HEADER = 18;
/** "ASEV", u32 size, u32 version, u32 item count; then items of u32 gpa, u32 size, u32 type. */
const METADATA_HEADER = 16;
const METADATA_ITEM = 12;

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
const u32 = (bytes: Uint8Array, at: number) => view(bytes).getUint32(at, true);
const u16 = (bytes: Uint8Array, at: number) => view(bytes).getUint16(at, true);

/**
 * Parses an OVMF image's footer table and SEV metadata; OvmfError names what is malformed and
 * where. The image ends at `endAt`: 4 GiB for OVMF, below OVMF and its variable store for a
 * Coconut SVSM (which has the same footer table and metadata; sev-snp-measure ovmf.py `SVSM`).
 */
export function parseOvmfImage(bytes: Uint8Array, endAt = FOUR_GIB): OvmfImage {
  checkImageSize(bytes.length, endAt);
  const table = parseFooterTable(bytes);
  const gpa = endAt - bytes.length;
  const sections = parseMetadata(bytes, table.get(OvmfGuid.SEV_METADATA));
  checkSections(sections, gpa);
  return {
    bytes,
    gpa,
    table,
    sections,
    sevEsResetEip: tableU32(table, OvmfGuid.SEV_ES_RESET_BLOCK, 'SEV-ES reset block'),
    sevHashesTableGpa: tableU32(table, OvmfGuid.SEV_HASH_TABLE_RV, 'SEV hashes table entry'),
    svsmEntry: svsmEntry(tableU32(table, OvmfGuid.SVSM_INFO, 'SVSM info'), gpa, bytes.length),
  };
}

/** The image is measured as whole pages and mapped below `endAt` (4 GiB). */
export function checkImageSize(size: number, endAt = FOUR_GIB): void {
  if (size === 0 || size % PAGE_SIZE !== 0)
    throw new OvmfError('image', `size ${size} is not a non-zero multiple of 4096 bytes (truncated?)`);
  if (size > endAt) throw new OvmfError('image', `size ${size} does not fit below ${hex(endAt)}`);
}

/** The SVSM's entry: an offset into the image (coconut-svsm QEMU sev.c adds the image's gpa). */
function svsmEntry(offset: number | undefined, gpa: number, size: number): number | undefined {
  if (offset === undefined) return undefined;
  if (offset >= size)
    throw new OvmfError('SVSM info', `entry offset ${hex(offset)} is outside the ${size}-byte image`);
  return gpa + offset;
}

function parseFooterTable(bytes: Uint8Array): Map<string, Uint8Array> {
  const footer = bytes.length - FOOTER_END_GAP - ENTRY_HEADER;
  if (footer < 0 || guidText(bytes, footer + 2) !== OvmfGuid.FOOTER_TABLE) {
    throw new OvmfError(
      'footer table',
      `no OVMF footer table: GUID ${OvmfGuid.FOOTER_TABLE} expected at offset ${hex(footer + 2)} (50 bytes before the end); not an OVMF image, or a truncated one`,
    );
  }
  const tableSize = u16(bytes, footer) - ENTRY_HEADER;
  if (tableSize < 0 || tableSize > footer)
    throw new OvmfError('footer table', `size ${u16(bytes, footer)} does not fit in the image`);
  const table = new Map<string, Uint8Array>();
  // Entries are laid out backwards from the footer: data, then u16 size, then the GUID.
  for (let end = footer, index = 0; end > footer - tableSize; index++) {
    const where = `footer table entry ${index} (ending at ${hex(end)})`;
    if (end - (footer - tableSize) < ENTRY_HEADER)
      throw new OvmfError(where, 'fewer bytes left than an entry header (size + GUID)');
    const size = u16(bytes, end - ENTRY_HEADER);
    const guid = guidText(bytes, end - 16);
    if (size < ENTRY_HEADER || size > end - (footer - tableSize))
      throw new OvmfError(
        where,
        `entry size ${size} is outside ${ENTRY_HEADER}..${end - (footer - tableSize)}`,
      );
    if (table.has(guid)) throw new OvmfError(where, `GUID ${guid} appears twice`);
    table.set(guid, bytes.subarray(end - size, end - ENTRY_HEADER));
    end -= size;
  }
  return table;
}

function tableU32(table: ReadonlyMap<string, Uint8Array>, guid: string, what: string): number | undefined {
  const entry = table.get(guid);
  if (entry === undefined) return undefined;
  if (entry.length < 4)
    throw new OvmfError(what, `entry ${guid} holds ${entry.length} bytes, expected at least 4`);
  return u32(entry, 0);
}

function parseMetadata(bytes: Uint8Array, entry: Uint8Array | undefined): MetadataSection[] {
  if (entry === undefined) return [];
  if (entry.length < 4)
    throw new OvmfError('SEV metadata', `table entry holds ${entry.length} bytes, expected a u32 offset`);
  const fromEnd = u32(entry, 0);
  const start = bytes.length - fromEnd;
  if (fromEnd > bytes.length || start + METADATA_HEADER > bytes.length)
    throw new OvmfError(
      'SEV metadata',
      `offset ${hex(fromEnd)} from the end puts the header outside the image`,
    );
  const signature = String.fromCharCode(...bytes.subarray(start, start + 4));
  if (signature !== 'ASEV')
    throw new OvmfError(
      'SEV metadata',
      `signature ${JSON.stringify(signature)} at ${hex(start)}, expected "ASEV"`,
    );
  const size = u32(bytes, start + 4);
  const version = u32(bytes, start + 8);
  const count = u32(bytes, start + 12);
  if (version !== 1) throw new OvmfError('SEV metadata', `version ${version}, expected 1`);
  if (size < METADATA_HEADER + count * METADATA_ITEM || start + size > bytes.length)
    throw new OvmfError(
      'SEV metadata',
      `size ${size} does not hold ${count} sections or runs past the end of the image`,
    );
  return Array.from({ length: count }, (_, i) => {
    const at = start + METADATA_HEADER + i * METADATA_ITEM;
    const typeValue = u32(bytes, at + 8);
    const type = SECTION_NAMES.get(typeValue);
    if (type === undefined)
      throw new OvmfError(`SEV metadata section ${i}`, `unknown section type ${hex(typeValue)}`);
    return { gpa: u32(bytes, at), size: u32(bytes, at + 4), type };
  });
}

/** Sections are whole pages below 4 GiB, apart from each other and from the firmware image. */
function checkSections(sections: readonly MetadataSection[], imageGpa: number): void {
  const describe = (s: MetadataSection, i: number) => `section ${i} (${s.type} ${hex(s.gpa)}+${hex(s.size)})`;
  sections.forEach((s, i) => {
    const where = `SEV metadata ${describe(s, i)}`;
    if (s.gpa % PAGE_SIZE !== 0 || s.size % PAGE_SIZE !== 0 || s.size === 0)
      throw new OvmfError(where, 'gpa and size must be non-zero multiples of 4096');
    if ((s.type === 'SNP_SECRETS' || s.type === 'CPUID') && s.size !== PAGE_SIZE)
      throw new OvmfError(where, 'a secrets or CPUID section is one page');
    if (s.gpa + s.size > FOUR_GIB) throw new OvmfError(where, 'runs past 4 GiB');
    if (s.gpa + s.size > imageGpa)
      throw new OvmfError(where, `overlaps the firmware image at ${hex(imageGpa)}`);
    const other = sections.findIndex((t, j) => j < i && s.gpa < t.gpa + t.size && t.gpa < s.gpa + s.size);
    const overlapped = sections[other];
    if (overlapped !== undefined) throw new OvmfError(where, `overlaps ${describe(overlapped, other)}`);
  });
}
