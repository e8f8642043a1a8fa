// The measurement log: one line per page LAUNCH_UPDATE measured, as JSON lines or a table.
import {
  bytesToHex,
  decodeVmsa,
  type KernelHashes,
  type MeasuredPage,
  PageType,
  pageTypeName,
  type SevMode,
  type SevRegion,
  type SevStep,
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

/** A row of a log table: the first three cells right-aligned; fixed widths so a long log streams. */
function row(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) => (i < 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
    .join('  ')
    .trimEnd();
}

/** How a log shows its entries as a table (JSON lines need nothing). */
export interface LogView<T> {
  readonly header: string;
  readonly row: (entry: T) => string;
}

/** A log table: fixed column widths, one row of cells per entry. */
const table = <T>(
  headers: readonly string[],
  widths: readonly number[],
  cells: (entry: T) => string[],
): LogView<T> => ({
  header: row(headers, widths),
  row: (entry) => row(cells(entry), widths),
});

/** The log of a PAGE_INFO chain: one row per measured page. */
export const PAGE_LOG = table<LogStep>(
  ['step', 'op', 'gpa', 'type', 'contents', 'digest after'],
  [7, 4, 14, 10, 17, 17],
  (s) => [
    String(s.index),
    s.op === undefined ? '' : String(s.op),
    s.gpa,
    s.type,
    /^0+$/.test(s.contents) ? '(zeros)' : short(s.contents),
    short(s.after),
  ],
);

/**
 * One region of a SEV or SEV-ES launch: what LAUNCH_UPDATE_DATA or LAUNCH_UPDATE_VMSA encrypted,
 * its SHA-256, and the launch digest (one SHA-256 over every region so far) once it is in.
 */
export interface SevLogStep {
  readonly index: number;
  /** The launch the region belongs to (absent in logs written before it was added). */
  readonly mode?: SevMode;
  readonly kind: SevRegion['kind'];
  readonly gpa?: string;
  readonly vcpu?: number;
  readonly bytes: number;
  readonly sha256: string;
  readonly digest: string;
  readonly vmsa?: Readonly<Record<string, string>>;
  /** The hashes table: the SHA-256 of --kernel, --initrd and --append it holds, in hex. */
  readonly hashes?: Readonly<Record<keyof KernelHashes, string>>;
}

export function sevLogStep(index: number, mode: SevMode, { region, sha256, digest }: SevStep): SevLogStep {
  const { hashes } = region;
  return {
    index,
    mode,
    kind: region.kind,
    ...(region.gpa !== undefined && { gpa: hex(region.gpa) }),
    ...(region.vcpu !== undefined && { vcpu: region.vcpu }),
    bytes: region.bytes.length,
    sha256,
    digest,
    ...(region.kind === 'vmsa' && { vmsa: vmsaFieldsOf(region.bytes) }),
    ...(hashes && {
      hashes: {
        kernel: bytesToHex(hashes.kernel),
        initrd: bytesToHex(hashes.initrd),
        cmdline: bytesToHex(hashes.cmdline),
      },
    }),
  };
}

/** The log of a SEV or SEV-ES launch: one row per region. */
export const SEV_LOG = table<SevLogStep>(
  ['step', 'region', 'gpa', 'bytes', 'sha256', 'digest after'],
  [5, 12, 14, 8, 17, 17],
  (s) => [
    String(s.index),
    s.vcpu === undefined ? s.kind : `vmsa ${s.vcpu}`,
    s.gpa ?? '',
    String(s.bytes),
    short(s.sha256),
    short(s.digest),
  ],
);
