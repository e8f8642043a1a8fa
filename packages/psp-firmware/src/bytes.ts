/**
 * A copy of bytes[start, end) as a plain Uint8Array. Buffer#slice returns a view that aliases its
 * input, and Uint8Array#slice on a Buffer returns a Buffer; decoders use this to hand out
 * independent, uniformly typed fields.
 */
export function copyBytes(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end));
}

/** Bytes as lower-case hex, two digits a byte, no prefix (digests, keys, page contents). */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}
