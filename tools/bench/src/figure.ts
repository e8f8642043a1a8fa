/** One measured figure, with the reference it is compared to and, where an issue sets one, its target. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Measured in the same run, in the same unit: ratio = value / reference.value. */
  readonly reference: { readonly name: string; readonly value: number };
  readonly target?: Target;
}

/** A bound the figure must meet: at least `min`, or at most `max`. */
export type Target = { readonly min: number } | { readonly max: number };

export function meets(figure: Figure): boolean | undefined {
  const { target, value } = figure;
  if (target === undefined) return undefined;
  return 'min' in target ? value >= target.min : value <= target.max;
}

const SI = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
] as const;
const BINARY = [
  [2 ** 30, 'Gi'],
  [2 ** 20, 'Mi'],
  [2 ** 10, 'Ki'],
] as const;

/** 23400000 ops/s → "23.4 Mops/s"; 5242880 B → "5.00 MiB": three significant digits. */
export function formatValue(value: number, unit: string): string {
  const prefixes = unit === 'B' ? BINARY : SI;
  for (const [scale, prefix] of prefixes) {
    if (Math.abs(value) >= scale) return `${(value / scale).toPrecision(3)} ${prefix}${unit}`;
  }
  return `${Number(value.toPrecision(3))} ${unit}`;
}

function formatTarget(figure: Figure): string {
  const { target } = figure;
  if (target === undefined) return '';
  const [op, bound] = 'min' in target ? ['≥', target.min] : ['≤', target.max];
  return `${op} ${formatValue(bound, figure.unit)} ${meets(figure) ? 'met' : 'MISSED'}`;
}

/** A plain-text table: figure, value, ratio to its reference, the reference, the target. */
export function formatFigures(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    formatValue(f.value, f.unit),
    `${(f.value / f.reference.value).toPrecision(3)}×`,
    `${f.reference.name} (${formatValue(f.reference.value, f.unit)})`,
    formatTarget(f),
  ]);
  const header = ['figure', 'value', 'ratio', 'reference', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
