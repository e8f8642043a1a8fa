/**
 * GUIDs as UEFI stores them (EFI_GUID: Data1 u32, Data2 u16, Data3 u16 little-endian, then 8
 * bytes in order), written in the usual 8-4-4-4-12 text form.
 */
export function guidBytes(text: string): Uint8Array {
  const hex = text.replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new RangeError(`not a GUID: ${text}`);
  const bytes = Uint8Array.from(hex.match(/../g) as string[], (h) => Number.parseInt(h, 16));
  bytes.subarray(0, 4).reverse();
  bytes.subarray(4, 6).reverse();
  bytes.subarray(6, 8).reverse();
  return bytes;
}

/** The text form of the 16 GUID bytes at `offset`. */
export function guidText(bytes: Uint8Array, offset = 0): string {
  const b = bytes.subarray(offset, offset + 16);
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = [...b.subarray(from, to)];
    return (reverse ? part.reverse() : part).map((x) => x.toString(16).padStart(2, '0')).join('');
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10, false), hex(10, 16, false)].join('-');
}
