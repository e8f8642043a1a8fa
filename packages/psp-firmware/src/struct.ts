import { copyBytes } from './bytes.js';
import { LengthError } from './errors.js';

/** A field of a packed little-endian structure: an unsigned integer of 1, 2, 4 or 8 bytes, or raw bytes. */
export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | { readonly bytes: number };
/** The value a field of kind `K` holds: bigint for u64, bytes for a byte array, number otherwise. */
export type FieldValue<K extends FieldKind> = K extends 'u64'
  ? bigint
  : K extends { bytes: number }
    ? Uint8Array
    : number;

/** A structure's fields: the offset and kind of each. */
export type StructLayout = Readonly<Record<string, readonly [offset: number, kind: FieldKind]>>;
/** The value of a whole structure of layout `L`: each field's value. */
export type StructValue<L extends StructLayout> = { -readonly [F in keyof L]: FieldValue<L[F][1]> };

/**
 * A packed structure of the firmware ABI (the `__packed` structs of include/linux/psp-sev.h):
 * encode and decode by a field table, bytes not covered by a field being reserved (zero on encode,
 * reported by `reservedSet` on decode).
 */
export class PackedStruct<L extends StructLayout> {
  private readonly fields: readonly (readonly [name: string, offset: number, kind: FieldKind])[];
  /** The offsets no field covers. */
  private readonly reserved: readonly number[];

  constructor(
    readonly name: string,
    readonly size: number,
    readonly layout: L,
  ) {
    this.fields = Object.entries(layout).map(([field, [offset, kind]]) => [field, offset, kind] as const);
    const covered = new Uint8Array(size);
    for (const [at, kind] of Object.values(layout)) {
      const width = typeof kind === 'object' ? kind.bytes : { u8: 1, u16: 2, u32: 4, u64: 8 }[kind];
      covered.fill(1, at, at + width);
    }
    this.reserved = [...covered.keys()].filter((at) => covered[at] === 0);
  }

  /** The structure's bytes; bytes no field covers are zero. */
  encode(value: StructValue<L>): Uint8Array {
    const bytes = new Uint8Array(this.size);
    const view = new DataView(bytes.buffer);
    for (const [field, at, kind] of this.fields) {
      const v = value[field as keyof L] as number | bigint | Uint8Array;
      if (kind === 'u8') view.setUint8(at, v as number);
      else if (kind === 'u16') view.setUint16(at, v as number, true);
      else if (kind === 'u32') view.setUint32(at, v as number, true);
      else if (kind === 'u64') view.setBigUint64(at, v as bigint, true);
      else {
        if ((v as Uint8Array).length !== kind.bytes) {
          throw new LengthError(`${this.name}.${field}`, String(kind.bytes), (v as Uint8Array).length);
        }
        bytes.set(v as Uint8Array, at);
      }
    }
    return bytes;
  }

  /**
   * Reads the structure's fields.
   * @throws LengthError when `bytes` is not the structure's size.
   */
  decode(bytes: Uint8Array): StructValue<L> {
    if (bytes.length !== this.size) throw new LengthError(this.name, String(this.size), bytes.length);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const value: Record<string, unknown> = {};
    for (const [field, at, kind] of this.fields) {
      if (kind === 'u8') value[field] = view.getUint8(at);
      else if (kind === 'u16') value[field] = view.getUint16(at, true);
      else if (kind === 'u32') value[field] = view.getUint32(at, true);
      else if (kind === 'u64') value[field] = view.getBigUint64(at, true);
      else value[field] = copyBytes(bytes, at, at + kind.bytes);
    }
    return value as StructValue<L>;
  }

  /** The offsets of the bytes no field covers that are non-zero, in order. */
  reservedBytesSet(bytes: Uint8Array): number[] {
    const set: number[] = [];
    for (const at of this.reserved) if (bytes[at] !== 0) set.push(at);
    return set;
  }

  /** True when a byte no field covers is non-zero. */
  reservedSet(bytes: Uint8Array): boolean {
    return this.reservedBytesSet(bytes).length > 0;
  }
}
