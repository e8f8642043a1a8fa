import { counted, hex } from '@snp-ref/rmp-core';
import { SEV_FEATURES } from '../decode/kinds.js';
import type { Comparison, Difference, FieldDifference } from './align.js';
import type { StepSource } from './steps.js';

const short = (h: string) => `${h.slice(0, 16)}…`;

/** One difference in a sentence, with the step numbers on each side. */
export function describeDifference(d: Difference): string {
  const page = `${d.type} page at gpa ${hex(d.gpa)}`;
  switch (d.kind) {
    case 'contents':
      return `step ${d.a} (A) / ${d.b} (B): the ${page} has other contents (SHA-384 ${short(d.contentsA)} vs ${short(d.contentsB)})`;
    case 'type':
      return `step ${d.a} (A) / ${d.b} (B): the page at gpa ${hex(d.gpa)} is ${d.type} in A but ${d.typeB} in B`;
    case 'missing':
      return `step ${d.a} (A): the ${page} is missing from B`;
    case 'extra':
      return `step ${d.b} (B): B measures an extra ${page}`;
    case 'moved':
      return `step ${d.a} (A) / ${d.b} (B): the ${page} is measured in another order`;
  }
}

/** The details of the first difference: the first differing byte, or the VMSA fields that differ. */
function details(d: Difference): string[] {
  if (d.kind !== 'contents') return [];
  const lines: string[] = [];
  if (d.vmsa !== undefined && d.vmsa.length > 0) {
    const width = Math.max(5, ...d.vmsa.map((f) => f.field.length));
    lines.push(`  VMSA fields that differ:`, `    ${'field'.padEnd(width)}  A → B`);
    for (const f of d.vmsa) {
      lines.push(`    ${f.field.padEnd(width)}  ${f.a} → ${f.b}${featureChange(f)}`);
      for (const c of f.hostKernel ?? [])
        lines.push(`    ${''.padEnd(width)}  host kernel ${c.kernel}: ${c.commit} "${c.title}" ${c.change}`);
    }
  } else if (d.byte !== undefined) {
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
  const side = (name: string, s: StepSource) =>
    `${name}: ${s.label} — ${counted(s.steps.length, 'measured page')}${s.digest ? `, digest ${s.digest}` : ''}`;
  const lines = [side('A', a), side('B', b), ...c.notes.map((n) => `note: ${n}`)];
  const [first, ...rest] = c.differences;
  if (first === undefined) {
    lines.push(
      `the same ${counted(c.matched, 'page')}, in the same order, with the same types${a.kind === 'qemu-trace' || b.kind === 'qemu-trace' ? '' : ' and contents'}`,
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
    `${counted(c.matched, 'page')} matched by gpa; every digest after step ${'a' in first ? first.a : first.b} differs`,
  );
  return `${lines.join('\n')}\n`;
}
