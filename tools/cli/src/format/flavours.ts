// One scenario run with each KVM ABI, compared: the steps that end differently and the RMP entries
// that differ afterwards; and the same story told by another scenario (the upstream ABI's, whose
// steps differ), by its noted steps. As text (snp-ref demo) and as JSON (snp-ref demo --json).
import { counted, hex, type RmpEntryJson } from '@snp-ref/rmp-core';
import type { Scenario, ScenarioResult, StepResult, Why } from '@snp-ref/scenario';
import { entryJsonText } from './entry.js';
import { stepDetail, stepOutcome } from './text.js';

export interface FlavourRun {
  readonly abi: string;
  readonly result: ScenarioResult;
}

/**
 * A step in a cell: the entry it read, "ok" and what it returned, or how it failed. An upstream
 * LAUNCH_UPDATE that did some pages and stopped says where and which check stopped it.
 */
function shown(s: StepResult): string {
  if (!s.ok) return stepOutcome(s);
  const detail = stepDetail(s);
  if (s.entry !== undefined) return detail;
  const stop = s.stopped && `stopped at ${stopPlace(s.stopped)} by ${stopper(s.stopped)}`;
  return [['ok', detail].filter((t) => t !== '').join(', '), stop].filter(Boolean).join('; ');
}

const stopPlace = ({ gpa, pfn }: Why) =>
  [gpa && `gpa ${gpa}`, pfn && `(pfn ${pfn})`].filter(Boolean).join(' ');

/** "the kernel (check)", or the firmware's status, which the ioctl does not report (it returns 0). */
const stopper = ({ side, check, fwError }: Why) =>
  fwError === undefined
    ? `the ${side} (${check})`
    : `the firmware: ${fwError} (unreported: the call returns 0)`;

/** "reviewed and v4". */
const abiList = (runs: readonly FlavourRun[]) => runs.map((r) => r.abi).join(' and ');

/** The steps whose outcome or returned values differ between the runs, in order. */
function differingSteps(runs: readonly FlavourRun[]): number[] {
  const [first, ...others] = runs;
  return (first?.result.steps ?? [])
    .filter((s) => others.some((r) => shown(r.result.steps[s.i] ?? s) !== shown(s)))
    .map((s) => s.i);
}

/** The pfns whose RMP entry differs between the runs afterwards (no entry: all zero, hypervisor-owned). */
function differingPfns(runs: readonly FlavourRun[]): string[] {
  const pfns = [...new Set(runs.flatMap((r) => Object.keys(r.result.rmp)))].sort(
    (a, b) => Number(a) - Number(b),
  );
  const key = (e: RmpEntryJson | undefined) => JSON.stringify(e ?? null);
  return pfns.filter((pfn) => runs.some((r) => key(r.result.rmp[pfn]) !== key(runs[0]?.result.rmp[pfn])));
}

const ZERO_ENTRY = 'all zero (hypervisor-owned)';

/** Rows of cells as columns two spaces apart, each padded to its widest. */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/** Words of `text` in lines of at most `width` characters, each indented by `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/)) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= width)
      lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(`${indent}${word}`);
  }
  return lines;
}

/** The comparison as text: the description, the steps and the RMP entries that differ. */
export function formatFlavours(scenario: Scenario, runs: readonly FlavourRun[]): string[] {
  const steps = differingSteps(runs);
  const pfns = differingPfns(runs);
  const abis = runs.map((r) => r.abi);
  const total = runs[0]?.result.steps.length ?? 0;
  const lines = scenario.description === undefined ? [] : [...wrap(scenario.description, 100, ''), ''];
  const [header = '', ...rows] = columns([
    ['  i', 'op', ...abis],
    ...steps.map((i) => [
      String(i).padStart(3),
      opText(scenario, runs, i),
      ...runs.map((r) => {
        const s = r.result.steps[i];
        return s === undefined ? '' : shown(s);
      }),
    ]),
  ]);
  lines.push(
    ...failedInEach(runs, steps),
    `${counted(steps.length, 'step')} of ${total} end differently (the others end the same with ${abiList(runs)}):`,
    header,
    ...withNotes(scenario, steps, rows),
    '',
    `RMP entries that differ after the runs (${counted(pfns.length, 'page')}):`,
    ...columns([
      ['  pfn', ...abis],
      ...pfns.map((pfn) => [
        `  ${pfn}`,
        ...runs.map((r) => {
          const e = r.result.rmp[pfn];
          return e === undefined ? ZERO_ENTRY : entryJsonText(e);
        }),
      ]),
    ]),
    '',
  );
  return lines;
}

/** Each row of a table of steps, followed by its step's note, if it has one. */
function withNotes(scenario: Scenario, steps: readonly number[], rows: readonly string[]): string[] {
  return rows.flatMap((row, n) => {
    const note = scenario.steps[steps[n] ?? -1]?.note;
    return note === undefined ? [row] : [row, `     # ${note}`];
  });
}

/** The steps of a story told by another scenario: those it notes, the points of the story. */
const storySteps = (scenario: Scenario) =>
  scenario.steps.flatMap((step, i) => (step.note === undefined ? [] : [i]));

/** The story as another scenario tells it with one ABI: each noted step, what it came to, its note. */
export function formatStory(scenario: Scenario, run: FlavourRun): string[] {
  const steps = storySteps(scenario);
  const [header = '', ...rows] = columns([
    ['  i', 'op', run.abi],
    ...steps.map((i) => {
      const s = run.result.steps[i];
      return [String(i).padStart(3), opText(scenario, [run], i), s === undefined ? '' : shown(s)];
    }),
  ]);
  return [header, ...withNotes(scenario, steps, rows), ''];
}

/** The op, with the page it names: "rmp.query pfn 0x104", "guest.read gpa 0x0". */
function opText(scenario: Scenario, runs: readonly FlavourRun[], i: number): string {
  const step: Readonly<Record<string, unknown>> = scenario.steps[i] ?? {};
  const page = (['pfn', 'gpa'] as const).find((f) => typeof step[f] === 'number');
  return `${runs[0]?.result.steps[i]?.op ?? ''}${page === undefined ? '' : ` ${page} ${hex(Number(step[page]))}`}`;
}

/** The steps that failed the same way with every ABI, the cause of what differs among them. */
function failedInEach(runs: readonly FlavourRun[], differing: readonly number[]): string[] {
  const failed = (runs[0]?.result.steps ?? []).filter((s) => !s.ok && !differing.includes(s.i));
  return failed.length === 0
    ? []
    : [
        `Failed the same way with ${abiList(runs)}:`,
        ...columns(failed.map((s) => [String(s.i).padStart(3), s.op, stepOutcome(s), stepDetail(s)])),
        '',
      ];
}

/** The VMs each run ended with, on one line when every run ended with the same. */
export function vmLines(runs: readonly FlavourRun[]): string[] {
  const text = (r: FlavourRun) =>
    Object.entries(r.result.vms)
      .map(([name, vm]) => `${name} asid ${vm.asid} ${vm.state}`)
      .join(', ');
  const all = runs.map(text);
  return all.every((t) => t === all[0])
    ? [`VMs after each run: ${all[0]}`]
    : runs.map((r, n) => `VMs after ${r.abi}: ${all[n]}`);
}

/** The comparison as JSON: the steps and entries that differ, by ABI, and each run's VMs. */
export function flavoursJson(scenario: Scenario, runs: readonly FlavourRun[]) {
  const byAbi = <T>(value: (r: FlavourRun) => T) => Object.fromEntries(runs.map((r) => [r.abi, value(r)]));
  return {
    description: scenario.description ?? null,
    abis: runs.map((r) => r.abi),
    steps: runs[0]?.result.steps.length ?? 0,
    differingSteps: differingSteps(runs).map((i) => ({
      i,
      op: runs[0]?.result.steps[i]?.op,
      note: scenario.steps[i]?.note ?? null,
      ...byAbi((r) => r.result.steps[i]),
    })),
    differingEntries: differingPfns(runs).map((pfn) => ({ pfn, ...byAbi((r) => r.result.rmp[pfn] ?? null) })),
    vms: byAbi((r) => r.result.vms),
  };
}

/** The story another scenario tells, as JSON: its description, its noted steps as `run` gives them, the RMP and VMs after. */
export function storyJson(scenario: Scenario, run: FlavourRun) {
  return {
    abi: run.abi,
    description: scenario.description ?? null,
    steps: run.result.steps.length,
    story: storySteps(scenario).map((i) => ({ note: scenario.steps[i]?.note, ...run.result.steps[i] })),
    rmp: run.result.rmp,
    vms: run.result.vms,
  };
}
