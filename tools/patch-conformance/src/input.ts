/** Bad input to snp-conform (unreadable patch, unknown annotation): named, exit 2, no stack trace. */
export class ConformInputError extends Error {
  override readonly name = 'ConformInputError';
}

/** A place in a file, 1-based line. */
export interface Location {
  readonly file: string;
  readonly line: number;
}
