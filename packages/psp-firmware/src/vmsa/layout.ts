import { LengthError, VmsaError } from '../errors.js';

/** A VMSA page is one 4 KiB page (APM Vol 2 Table B-4; Linux `struct sev_es_save_area` is 4096 bytes). */
export const VMSA_BYTES = 4096;

/** A named field of the VMSA: an integer of `bytes` bytes (little-endian), or a byte array (`array`). */
export interface VmsaField {
  readonly name: string;
  readonly offset: number;
  readonly bytes: number;
  readonly array?: true;
}

const SEGMENTS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'gdtr', 'ldtr', 'idtr', 'tr'] as const;

/** A segment register: selector u16, attrib u16, limit u32, base u64 (Linux `struct vmcb_seg`). */
const segment = (name: string, offset: number): VmsaField[] => [
  { name: `${name}.selector`, offset, bytes: 2 },
  { name: `${name}.attrib`, offset: offset + 2, bytes: 2 },
  { name: `${name}.limit`, offset: offset + 4, bytes: 4 },
  { name: `${name}.base`, offset: offset + 8, bytes: 8 },
];

/** Consecutive u64 fields from `offset`. */
const qwords = (offset: number, ...names: string[]): VmsaField[] =>
  names.map((name, i) => ({ name, offset: offset + 8 * i, bytes: 8 }));

/**
 * The SEV-ES/SNP save area: AMD APM Vol 2 Table B-4, field names as in Linux
 * arch/x86/include/asm/svm.h `struct sev_es_save_area`, whose BUILD_BUG_RESERVED_OFFSET checks pin
 * the reserved gaps at 0xc8, 0xcc, 0xd8, 0x1c0, 0x248, 0x298, 0x2f0, 0x320, 0x380 and 0x3f0.
 * Bytes not covered by a field are reserved.
 */
export const VMSA_FIELDS: readonly VmsaField[] = [
  ...SEGMENTS.flatMap((name, i) => segment(name, 16 * i)),
  ...qwords(0xa0, 'vmpl0_ssp', 'vmpl1_ssp', 'vmpl2_ssp', 'vmpl3_ssp', 'u_cet'),
  { name: 'vmpl', offset: 0xca, bytes: 1 },
  { name: 'cpl', offset: 0xcb, bytes: 1 },
  { name: 'efer', offset: 0xd0, bytes: 8 },
  ...qwords(0x140, 'xss', 'cr4', 'cr3', 'cr0', 'dr7', 'dr6', 'rflags', 'rip'),
  ...qwords(0x180, 'dr0', 'dr1', 'dr2', 'dr3'),
  ...qwords(0x1a0, 'dr0_addr_mask', 'dr1_addr_mask', 'dr2_addr_mask', 'dr3_addr_mask'),
  ...qwords(0x1d8, 'rsp', 's_cet', 'ssp', 'isst_addr', 'rax', 'star', 'lstar', 'cstar', 'sfmask'),
  ...qwords(0x220, 'kernel_gs_base', 'sysenter_cs', 'sysenter_esp', 'sysenter_eip', 'cr2'),
  ...qwords(0x268, 'g_pat', 'dbgctl', 'br_from', 'br_to', 'last_excp_from', 'last_excp_to'),
  { name: 'pkru', offset: 0x2e8, bytes: 4 },
  { name: 'tsc_aux', offset: 0x2ec, bytes: 4 },
  ...qwords(0x308, 'rcx', 'rdx', 'rbx'),
  ...qwords(0x328, 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'),
  ...qwords(0x390, 'guest_exit_info_1', 'guest_exit_info_2', 'guest_exit_int_info', 'guest_nrip'),
  ...qwords(0x3b0, 'sev_features', 'vintr_ctrl', 'guest_exit_code', 'virtual_tom', 'tlb_id'),
  ...qwords(0x3d8, 'pcpu_id', 'event_inj', 'xcr0'),
  // The x87/SSE/AVX state that follows (Linux: "Floating Point Area").
  { name: 'x87_dp', offset: 0x400, bytes: 8 },
  { name: 'mxcsr', offset: 0x408, bytes: 4 },
  { name: 'x87_ftw', offset: 0x40c, bytes: 2 },
  { name: 'x87_fsw', offset: 0x40e, bytes: 2 },
  { name: 'x87_fcw', offset: 0x410, bytes: 2 },
  { name: 'x87_fop', offset: 0x412, bytes: 2 },
  { name: 'x87_ds', offset: 0x414, bytes: 2 },
  { name: 'x87_cs', offset: 0x416, bytes: 2 },
  { name: 'x87_rip', offset: 0x418, bytes: 8 },
  { name: 'fpreg_x87', offset: 0x420, bytes: 80, array: true },
  { name: 'fpreg_xmm', offset: 0x470, bytes: 256, array: true },
  { name: 'fpreg_ymm', offset: 0x570, bytes: 256, array: true },
];

const BY_NAME = new Map(VMSA_FIELDS.map((f) => [f.name, f]));

/** The field called `name`; VmsaError if the VMSA has none. */
export function vmsaField(name: string): VmsaField {
  const field = BY_NAME.get(name);
  if (field === undefined) throw new VmsaError(`${name}: not a VMSA field`);
  return field;
}

/** Field values by name: integers as bigint, arrays as bytes. Absent fields are zero. */
export type VmsaValues = Readonly<Record<string, bigint | Uint8Array>>;

/** The 4096-byte VMSA page holding `values`; VmsaError names a field that does not exist or does not fit. */
export function encodeVmsa(values: VmsaValues): Uint8Array {
  const page = new Uint8Array(VMSA_BYTES);
  const view = new DataView(page.buffer);
  for (const [name, value] of Object.entries(values)) {
    const field = vmsaField(name);
    if (field.array === true) {
      if (!(value instanceof Uint8Array) || value.length > field.bytes)
        throw new VmsaError(`${name}: expected at most ${field.bytes} bytes`);
      page.set(value, field.offset);
      continue;
    }
    if (typeof value !== 'bigint' || value < 0n || value >> BigInt(8 * field.bytes) !== 0n)
      throw new VmsaError(`${name}: expected an integer of ${8 * field.bytes} bits`);
    // Little-endian (the VMSA is read by an x86 CPU); fields are 1, 2, 4 or 8 bytes.
    if (field.bytes === 8) view.setBigUint64(field.offset, value, true);
    else if (field.bytes === 4) view.setUint32(field.offset, Number(value), true);
    else if (field.bytes === 2) view.setUint16(field.offset, Number(value), true);
    else view.setUint8(field.offset, Number(value));
  }
  return page;
}

/** A VMSA page read field by field. */
export interface DecodedVmsa {
  /** Every named field that is not zero, in layout order. */
  readonly values: Readonly<Record<string, bigint | Uint8Array>>;
  /** Offsets of non-zero bytes outside every named field (reserved bytes), shown rather than dropped. */
  readonly reservedNonZero: readonly number[];
}

/** The non-zero fields of a VMSA page. */
export function decodeVmsa(page: Uint8Array): DecodedVmsa {
  if (page.length !== VMSA_BYTES) throw new LengthError('a VMSA page', String(VMSA_BYTES), page.length);
  const values: Record<string, bigint | Uint8Array> = {};
  const covered = new Uint8Array(VMSA_BYTES);
  for (const field of VMSA_FIELDS) {
    const bytes = page.subarray(field.offset, field.offset + field.bytes);
    covered.fill(1, field.offset, field.offset + field.bytes);
    if (bytes.every((b) => b === 0)) continue;
    values[field.name] =
      field.array === true ? new Uint8Array(bytes) : bytes.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);
  }
  const reservedNonZero = [...page.keys()].filter((i) => covered[i] === 0 && page[i] !== 0);
  return { values, reservedNonZero };
}
