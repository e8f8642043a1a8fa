import { counted, hex } from '@snp-ref/rmp-core';
import { SEV_FEATURES } from '../decode/kinds.js';
import type { Comparison, Difference, Extent, FieldDifference } from './align.js';
import { type StepSource, unitOf } from './source.js';

const short = (h: string) => `${h.slice(0, 16)}…`;

/** The hash a digest is, by its length: a region's SHA-256 (SEV) or a page's SHA-384 (SNP). */
const hashName = (digest: string) => (digest.length === 64 ? 'SHA-256' : 'SHA-384');

/** Where a difference is: "NORMAL page at gpa 0x…" ("page at gpa 0x…" untyped), "firmware at gpa 0x…", "VMSA of vCPU 1". */
function place(d: Difference, typed = true): string {
  if (d.region === undefined) return `${typed ? `${d.type} ` : ''}page at gpa ${hex(d.gpa)}`;
  return d.gpa === undefined ? d.region : `${d.region} at gpa ${hex(d.gpa)}`;
}

/** One difference in a sentence, with the step numbers on each side. */
export function describeDifference(d: Difference): string {
  const at = place(d);
  switch (d.kind) {
    case 'contents':
      return `step ${d.a} (A) / ${d.b} (B): the ${at} has other contents (${hashName(d.contentsA)} ${short(d.contentsA)} vs ${short(d.contentsB)})`;
    case 'type':
      return `step ${d.a} (A) / ${d.b} (B): the ${place(d, false)} is ${d.type} in A but ${d.typeB} in B`;
    case 'missing':
      return `step ${d.a} (A): the ${at} is missing from B`;
    case 'extra':
      return `step ${d.b} (B): B measures an extra ${at}`;
    case 'moved':
      return `step ${d.a} (A) / ${d.b} (B): the ${at} is measured in another order`;
  }
}

const extentText = ({ bytes, gpa }: Extent) =>
  `${counted(bytes, 'byte')}${gpa === undefined ? '' : ` at gpa ${hex(gpa)}`}`;

/** What QEMU loads for each entry of the SEV hashes table (target/i386/sev.c sev_add_kernel_loader_hashes). */
const HASHED_FLAG: Readonly<Record<string, string>> = {
  kernel: '--kernel',
  initrd: '--initrd',
  cmdline: '--append',
};

/**
 * The details of the first difference: the first differing byte, the VMSA fields that differ, the
 * hashes table entries that differ, or a region's other size.
 */
function details(d: Difference): string[] {
  if (d.kind !== 'contents') return [];
  const lines: string[] = [];
  if (d.extent !== undefined) lines.push(`  ${extentText(d.extent.a)} in A, ${extentText(d.extent.b)} in B`);
  if (d.vmsa !== undefined && d.vmsa.length > 0) {
    const width = Math.max(5, ...d.vmsa.map((f) => f.field.length));
    lines.push(`  VMSA fields that differ:`, `    ${'field'.padEnd(width)}  A → B`);
    for (const f of d.vmsa) {
      lines.push(`    ${f.field.padEnd(width)}  ${f.a} → ${f.b}${featureChange(f)}`);
      for (const c of f.hostKernel ?? [])
        lines.push(`    ${''.padEnd(width)}  host kernel ${c.kernel}: ${c.commit} "${c.title}" ${c.change}`);
    }
  } else if (d.hashes !== undefined && d.hashes.length > 0) {
    lines.push('  hashes table entries that differ (SHA-256 A → B):');
    for (const e of d.hashes)
      lines.push(
        `    ${e.entry.padEnd(7)}  ${short(e.a)} → ${short(e.b)}  (${HASHED_FLAG[e.entry] ?? e.entry})`,
      );
  } else if (d.byte !== undefined && d.region === undefined) {
    const { offset, a, b, count } = d.byte;
    lines.push(
      `  first differing byte at page offset ${hex(offset)} (gpa ${hex(d.gpa + offset)}): ${hex(a)} in A, ${hex(b)} in B; ${counted(count, 'byte')} ${count === 1 ? 'differs' : 'differ'} in this page`,
    );
  }
  return lines;
}

/** For sev_features, the features B turns on and off by name. */
function featureChange(f: FieldDifference): string {
  if (f.field !== 'sev_features') return '';
  const [a, b] = [BigInt(f.a), BigInt(f.b)];
  const names = (bits: bigint) =>
    SEV_FEATURES.filter(([, bit]) => (bits >> BigInt(bit)) & 1n).map(([n]) => n);
  const on = names(b & ~a).map((n) => `+${n}`);
  const off = names(a & ~b).map((n) => `-${n}`);
  return `  (${[...on, ...off].join(' ')})`;
}

const KIND_NAMES: Readonly<Record<Difference['kind'], string>> = {
  contents: 'with other contents',
  type: 'of another type',
  missing: 'missing from B',
  extra: 'extra in B',
  moved: 'in another order',
};

/** The report: the two sides, the first difference in detail, then a summary of the rest. */
export function formatComparison(a: StepSource, b: StepSource, c: Comparison): string {
  const unit = unitOf(a);
  const side = (name: string, s: StepSource) =>
    `${name}: ${s.label} — ${counted(s.steps.length, `measured ${unit}`)}${s.digest ? `, digest ${s.digest}` : ''}`;
  const lines = [side('A', a), side('B', b), ...c.notes.map((n) => `note: ${n}`)];
  const [first, ...rest] = c.differences;
  if (first === undefined) {
    lines.push(
      `the same ${counted(c.matched, unit)}, in the same order, with the same types${a.kind === 'qemu-trace' || b.kind === 'qemu-trace' ? '' : ' and contents'}`,
    );
    return `${lines.join('\n')}\n`;
  }
  lines.push('', `first difference: ${describeDifference(first)}`, ...details(first));
  if (rest.length > 0) {
    const counts = Object.entries(KIND_NAMES)
      .map(([kind, name]) => [rest.filter((d) => d.kind === kind).length, name] as const)
      .filter(([n]) => n > 0)
      .map(([n, name]) => `${n} ${name}`);
    lines.push('', `then ${rest.length} more: ${counts.join(', ')}`);
    lines.push(...rest.slice(0, 10).map((d) => `  ${describeDifference(d)}`));
    if (rest.length > 10) lines.push(`  … ${rest.length - 10} more (--json lists all)`);
  }
  lines.push(
    '',
    `${counted(c.matched, unit)} matched by ${unit === 'region' ? 'name' : 'gpa'}; every digest after step ${'a' in first ? first.a : first.b} differs`,
  );
  return `${lines.join('\n')}\n`;
}
