/**
 * Errors a caller of rmp-core can cause with bad input. Architectural failures of an
 * instruction are not errors: they are return codes (see returnCodes.ts).
 */
export type RmpErrorCode =
  | 'RMP_FIELD_RANGE'
  | 'RMP_RESERVED_BITS'
  | 'RMP_BAD_LENGTH'
  | 'RMP_PFN_RANGE'
  | 'RMP_HOST_SIZE';

/** An error a caller of rmp-core caused with bad input, with its code. */
export class RmpError extends Error {
  override readonly name = 'RmpError';

  constructor(
    readonly code: RmpErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A field value that the 16-byte entry cannot hold (gpa misaligned or too wide, asid too large, …). */
export class RmpFieldRangeError extends RmpError {
  constructor(
    readonly field: string,
    readonly value: number,
    expected: string,
  ) {
    super('RMP_FIELD_RANGE', `RMP entry field ${field}: expected ${expected}, got ${formatValue(value)}`);
  }
}

/** Bytes that set bits the layout reserves (they must be zero). */
export class RmpReservedBitsError extends RmpError {
  constructor(readonly bits: readonly number[]) {
    super('RMP_RESERVED_BITS', `RMP entry sets reserved bit(s) ${bits.join(', ')}: reserved bits must be 0`);
  }
}

/** Bytes of the wrong length, such as a raw RMP entry that is not 16 bytes. */
export class RmpLengthError extends RmpError {
  constructor(what: string, expected: number, got: number) {
    super('RMP_BAD_LENGTH', `${what}: expected ${expected} bytes, got ${got}`);
  }
}

/** A page frame number outside the host the table models. */
export class RmpPfnRangeError extends RmpError {
  constructor(
    readonly pfn: number,
    readonly hostPages: number,
  ) {
    super(
      'RMP_PFN_RANGE',
      `pfn ${formatValue(pfn)}: expected an integer in [0, ${formatValue(hostPages)}) (host has ${hostPages} pages)`,
    );
  }
}

/** A host size the table cannot model: it covers 1 to 2^32 pages (MAX_HOST_PAGES, a 16 TiB host). */
export class RmpHostSizeError extends RmpError {
  constructor(
    readonly hostPages: number,
    readonly maxPages: number,
  ) {
    super(
      'RMP_HOST_SIZE',
      `host size ${formatValue(hostPages)} pages: expected an integer from 1 to ${formatValue(maxPages)}`,
    );
  }
}

function formatValue(value: number): string {
  return Number.isSafeInteger(value) && value >= 0 ? `0x${value.toString(16)}` : String(value);
}
