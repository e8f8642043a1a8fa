// `report show` and `report verify` as text and JSON.
import type {
  Check,
  DecodedReport,
  Product,
  ReportContainer,
  ShownField,
  Verdict,
} from '@snp-ref/attestation';
import { shownFields } from '@snp-ref/attestation';
import { EXPECTATION_FLAGS } from './verifyOptions.js';

const CONTAINERS: Readonly<Record<ReportContainer, string>> = {
  binary: 'binary',
  hex: 'hex text',
  hcl: 'Azure HCL report, the report at 0x20',
};

export interface ShownReport {
  readonly container: ReportContainer;
  readonly version: number;
  readonly layoutVersion: number;
  readonly product: { readonly name: Product; readonly from: string } | null;
  readonly warnings: readonly string[];
  readonly fields: readonly ShownField[];
  readonly reservedSet: readonly string[];
  /** The whole report as hex, for a version newer than the layouts known. */
  readonly raw?: string;
}

/** What `report show` tells: every field, the generation its TCB values were split for, and warnings. */
export function showReport(
  report: DecodedReport,
  container: ReportContainer,
  product: ShownReport['product'],
): ShownReport {
  const version = report.fields.version;
  const warnings: string[] = [];
  if (!report.knownVersion)
    warnings.push(
      `VERSION ${version} is not a layout this tool knows (2 to 5): fields are read as version ${report.layoutVersion}, raw bytes follow`,
    );
  if (product === null)
    warnings.push('generation not known: TCB values are split as on Milan and Genoa (give --product)');
  if (report.reservedSet.length > 0)
    warnings.push(`${report.reservedSet.length} reserved byte(s) are set; a real report has them zero`);
  return {
    container,
    version,
    layoutVersion: report.layoutVersion,
    product,
    warnings,
    fields: shownFields(report, product?.name),
    reservedSet: report.reservedSet.map((at) => `0x${at.toString(16).toUpperCase()}`),
    ...(report.knownVersion ? {} : { raw: Buffer.from(report.bytes).toString('hex') }),
  };
}

export function formatShown(shown: ShownReport): string {
  const product =
    shown.product === null ? 'generation not known' : `${shown.product.name} (from ${shown.product.from})`;
  const lines = [`attestation report version ${shown.version} (${CONTAINERS[shown.container]}), ${product}`];
  for (const warning of shown.warnings) lines.push(`warning: ${warning}`);
  const width = Math.max(...shown.fields.map((f) => f.name.length));
  for (const f of shown.fields)
    lines.push(
      `${f.offset} ${f.name.padEnd(width)} ${f.value}${f.meaning === undefined ? '' : `  (${f.meaning})`}`,
    );
  lines.push(`reserved bytes set: ${shown.reservedSet.length === 0 ? 'none' : shown.reservedSet.join(' ')}`);
  if (shown.raw !== undefined)
    for (let at = 0; at < shown.raw.length; at += 64)
      lines.push(`raw 0x${(at / 2).toString(16).padStart(3, '0')}: ${shown.raw.slice(at, at + 64)}`);
  return `${lines.join('\n')}\n`;
}

/** Failures first, then what was not checked, then what passed; each failure with where its expectation came from. */
export function formatVerdict(verdict: Verdict): string {
  const rank = (c: Check) => (!c.ok ? (c.skipped ? 1 : 0) : c.skipped ? 3 : 2);
  const ordered = [...verdict.checks].sort((a, b) => rank(a) - rank(b));
  const failed = verdict.checks.filter((c) => !c.ok).length;
  const width = Math.max(...verdict.checks.map((c) => c.id.length));
  const head = verdict.ok
    ? `report verify: OK, ${verdict.checks.length} checks`
    : `report verify: FAILED, ${failed} of ${verdict.checks.length} checks not passed`;
  const lines = [head];
  for (const check of ordered) {
    const label = check.ok ? (check.skipped ? 'n/a ' : 'ok  ') : check.skipped ? 'SKIP' : 'FAIL';
    lines.push(`${label} ${check.id.padEnd(width)} ${check.why}`);
    if (check.ok) continue;
    const pad = ' '.repeat(width + 6);
    const from = EXPECTATION_FLAGS[check.id];
    if (check.expected !== undefined)
      lines.push(`${pad}expected ${check.expected}${from === undefined ? '' : ` (${from})`}`);
    if (check.actual !== undefined) lines.push(`${pad}found    ${check.actual}`);
    if (check.id === 'measurement')
      lines.push(
        `${pad}next: log what your launch measures with \`snp-ref measure … --log expected.jsonl\`, then find the first differing page with \`snp-ref diff\``,
      );
  }
  return `${lines.join('\n')}\n`;
}
