import { guidBytes } from './guid.js';

/** SHA-256 digests of what QEMU loads next to OVMF (-kernel, -initrd, -append). */
export interface KernelHashes {
  readonly kernel: Uint8Array;
  readonly initrd: Uint8Array;
  readonly cmdline: Uint8Array;
}

/**
 * GUIDs of the SEV hashes table and its entries (QEMU target/i386/sev.c `sev_hash_table_header_guid`
 * and friends; edk2 OvmfPkg BlobVerifierLibSevHashes).
 */
const TABLE_GUID = '9438d606-4f22-4cc9-b479-a793d411fd21';
const ENTRY_GUIDS = {
  cmdline: '97d02dd8-bd20-4c94-aa78-e7714d36ab2a',
  initrd: '44baf731-3a2f-4bd7-9af1-41e29169781d',
  kernel: '4de79437-abd2-427f-b835-d5b172d2045b',
} as const;

/** GUID, u16 length, then the entries cmdline, initrd, kernel: GUID, u16 length, SHA-256 (QEMU SevHashTable, packed). */
const ENTRY_BYTES = 16 + 2 + 32;
const TABLE_BYTES = 16 + 2 + 3 * ENTRY_BYTES;
/** QEMU pads the table to a multiple of 16 bytes (PaddedSevHashTable); the padding is measured. */
export const SEV_HASHES_TABLE_BYTES = Math.ceil(TABLE_BYTES / 16) * 16;

/** The padded SEV hashes table exactly as QEMU writes it into the guest before measuring it. */
export function sevHashesTable(hashes: KernelHashes): Uint8Array {
  const table = new Uint8Array(SEV_HASHES_TABLE_BYTES);
  const view = new DataView(table.buffer);
  table.set(guidBytes(TABLE_GUID), 0);
  view.setUint16(16, TABLE_BYTES, true);
  (['cmdline', 'initrd', 'kernel'] as const).forEach((name, i) => {
    const at = 18 + i * ENTRY_BYTES;
    table.set(guidBytes(ENTRY_GUIDS[name]), at);
    view.setUint16(at + 16, ENTRY_BYTES, true);
    table.set(hashes[name], at + 18);
  });
  return table;
}

/** The command line as QEMU hashes it: the string's bytes and its terminating NUL (empty: just the NUL). */
export function cmdlineBytes(append: string | undefined): Uint8Array {
  return new TextEncoder().encode(`${append ?? ''}\0`);
}
