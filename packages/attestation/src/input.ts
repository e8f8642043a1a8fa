// What a user holds as "a report": the raw 0x4A0 bytes, the same as hex text, or Azure's HCL report.
import { REPORT_BYTES } from '@snp-ref/psp-firmware';
import { ReportFormatError } from './errors.js';

/** Larger input is refused before it is looked at (an HCL report is 2,600 bytes; hex text twice that). */
export const MAX_REPORT_INPUT_BYTES = 1 << 20;

/**
 * Azure's HCL report: a 32-byte header that starts "HCLA", then the hardware report at 0x20
 * (kinvolk/azure-cvm-tooling az-cvm-vtpm/src/hcl/mod.rs: AttestationHeader of eight u32, then
 * hw_report; SNP_REPORT_SIZE 1184).
 */
const HCL_SIGNATURE = 'HCLA';
/** Where the hardware report starts in an Azure HCL report, after its header. */
export const HCL_REPORT_OFFSET = 0x20;

/** How a report was given: the raw bytes, the same as hex text, or inside an Azure HCL report. */
export type ReportContainer = 'binary' | 'hex' | 'hcl';

/** A report as read from a file or text: its 0x4A0 bytes and the container they came in. */
export interface ReportInput {
  /** The 0x4A0 report bytes. */
  readonly report: Uint8Array;
  readonly container: ReportContainer;
}

const HEX_TEXT = /^(?:0x)?[0-9a-fA-F\s]*$/;

/**
 * Finds the report in a file's bytes: hex text (whitespace allowed; a binary report starts with its
 * VERSION, 02 00 00 00 or the like, never with a hex digit), the HCL wrapper, or the bytes themselves.
 */
export function readReportInput(bytes: Uint8Array): ReportInput {
  if (bytes.length > MAX_REPORT_INPUT_BYTES)
    throw new ReportFormatError(`${bytes.length} bytes is too large for an attestation report`);
  const asText = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  if (bytes.length > 0 && HEX_TEXT.test(asText)) {
    const digits = asText.replace(/^0x/, '').replace(/\s/g, '');
    if (digits.length % 2 !== 0)
      throw new ReportFormatError(`hex text with an odd number of digits (${digits.length})`);
    return { report: sized(Buffer.from(digits, 'hex'), 'hex text'), container: 'hex' };
  }
  if (asText.startsWith(HCL_SIGNATURE)) {
    const end = HCL_REPORT_OFFSET + REPORT_BYTES;
    if (bytes.length < end)
      throw new ReportFormatError(
        `an HCL report (header "HCLA") holds the report at 0x20..0x4C0, but it has only ${bytes.length} bytes`,
      );
    return { report: new Uint8Array(bytes.subarray(HCL_REPORT_OFFSET, end)), container: 'hcl' };
  }
  return { report: sized(bytes, 'the file'), container: 'binary' };
}

function sized(report: Uint8Array, what: string): Uint8Array {
  if (report.length !== REPORT_BYTES)
    throw new ReportFormatError(
      `an attestation report is 1184 (0x4A0) bytes, ${what} holds ${report.length}`,
    );
  return new Uint8Array(report);
}
