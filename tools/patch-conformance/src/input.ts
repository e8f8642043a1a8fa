/** Bad input to snp-conform (unreadable patch, unknown annotation): named, exit 2, no stack trace. */
export class ConformInputError extends Error {
  override readonly name = 'ConformInputError';
}

/** A place in a file, 1-based line; in a posted series, also the patch the line belongs to. */
export interface Location {
  readonly file: string;
  readonly line: number;
  readonly patch?: PatchRef;
}

/** Which posted patch a line came from. */
export interface PatchRef {
  /** Display name of the input file (as given, or '<stdin>'). */
  readonly source: string;
  /** Decoded Subject without the leading [PATCH …] tag, e.g. "KVM: SVM: Add KVM_SEV_SNP_LAUNCH_UPDATE". */
  readonly subject?: string;
  /** The bracket tag as posted, e.g. "PATCH Part2 RFC v4 24/40". */
  readonly tag?: string;
  readonly n?: number;
  readonly m?: number;
  readonly version?: number;
  readonly from?: string;
  readonly date?: string;
  readonly messageId?: string;
}
