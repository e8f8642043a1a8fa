// The measurement log: one line per page LAUNCH_UPDATE measured, as JSON lines or a table.
import {
  bytesToHex,
  decodeVmsa,
  type MeasuredPage,
  PageType,
  pageTypeName,
} from '@snp-ref/psp-firmware/measure';
import { hex } from '@snp-ref/rmp-core';

/** One measured page: where in the chain, what was measured, and the digest around it. */
export interface LogStep {
  readonly index: number;
  /** The plan op the page belongs to, when it came from a plan. */
  readonly op?: number;
  readonly gpa: string;
  readonly type: string;
  /** PAGE_INFO CONTENTS: SHA-384 of the page (NORMAL, VMSA) or 48 zero bytes. */
  readonly contents: string;
  readonly before: string;
  readonly after: string;
  /** VMSA pages: the non-zero fields by name (reserved bytes that are set as reserved@0x…). */
  readonly vmsa?: Readonly<Record<string, string>>;
}

/** The VMSA's non-zero fields as hex strings (bytes for arrays), reserved bytes that are set included. */
export function vmsaFieldsOf(page: Uint8Array): Record<string, string> {
  const { values, reservedNonZero } = decodeVmsa(page);
  return {
    ...Object.fromEntries(
      Object.entries(values).map(([k, v]) => [k, typeof v === 'bigint' ? hex(v) : bytesToHex(v)]),
    ),
    ...Object.fromEntries(reservedNonZero.map((at) => [`reserved@${hex(at)}`, hex(page[at] ?? 0)])),
  };
}

export function logStep(index: number, page: MeasuredPage, op?: number): LogStep {
  return {
    index,
    ...(op !== undefined && { op }),
    gpa: hex(page.gpa),
    type: pageTypeName(page.type) ?? hex(page.type),
    contents: bytesToHex(page.contents),
    before: bytesToHex(page.before),
    after: bytesToHex(page.after),
    ...(page.type === PageType.VMSA && page.page && { vmsa: vmsaFieldsOf(page.page) }),
  };
}

const short = (h: string) => `${h.slice(0, 16)}…`;
const WIDTHS = [7, 4, 14, 10, 17, 17];

/** A row of the log table; fixed widths so a long log streams. */
function row(cells: readonly string[]): string {
  return cells
    .map((c, i) => (i < 3 ? c.padStart(WIDTHS[i] ?? 0) : c.padEnd(WIDTHS[i] ?? 0)))
    .join('  ')
    .trimEnd();
}

export const LOG_TABLE_HEADER = row(['step', 'op', 'gpa', 'type', 'contents', 'digest after']);

/** One log step as a table row for a person. */
export function logTableRow(s: LogStep): string {
  const contents = /^0+$/.test(s.contents) ? '(zeros)' : short(s.contents);
  return row([
    String(s.index),
    s.op === undefined ? '' : String(s.op),
    s.gpa,
    s.type,
    contents,
    short(s.after),
  ]);
}
