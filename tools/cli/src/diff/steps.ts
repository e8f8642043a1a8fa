// The step sequences `snp-ref diff` compares, read from a plan, a measurement log, a scenario or a
// QEMU trace: one step per page LAUNCH_UPDATE measured (per region, for a SEV or SEV-ES log).
import { dirname } from 'node:path';
import { type MeasuredPage, measurePlanWithFiles, parseLaunchPlan } from '@snp-ref/psp-firmware/measure';
import { PAGE_SIZE } from '@snp-ref/rmp-core';
import type { Files } from '../files.js';
import { type LogStep, logStep, type SevLogStep } from '../measureLog.js';
import { withBaseDir } from '../planFiles.js';
import { sevLogSteps } from './sevLog.js';
import { type DiffStep, isStringRecord, SourceError, type StepSource } from './source.js';

/** Page copies are kept for byte-level reports up to this many pages (64 MiB). */
const KEEP_PAGES = 16_384;

const fromLog = (s: LogStep, page?: Uint8Array): DiffStep => ({
  gpa: Number(s.gpa),
  type: s.type,
  contents: s.contents,
  ...(s.vmsa && { vmsa: s.vmsa }),
  ...(page && { page }),
});

/** Collects measured pages as diff steps, keeping page copies while there are few. */
function collector(keep: boolean) {
  const steps: DiffStep[] = [];
  return {
    steps,
    onPage: (page: MeasuredPage) => {
      steps.push(
        fromLog(logStep(steps.length, page), keep && page.page ? new Uint8Array(page.page) : undefined),
      );
    },
  };
}

async function planSteps(file: string, value: unknown, baseDir: string): Promise<StepSource> {
  const plan = withBaseDir(parseLaunchPlan(value), baseDir);
  const pages = plan.ops.reduce((n, op) => n + op.pages, 0);
  const { steps, onPage } = collector(pages <= KEEP_PAGES);
  const { digest } = await measurePlanWithFiles(plan, { baseDir, onPage });
  return { label: `plan ${file}`, kind: 'plan', steps, digest };
}

/** A measurement log: an SNP launch's pages, or a SEV or SEV-ES launch's regions (sevLog.ts). */
function logSteps(file: string, text: string): StepSource {
  const lines = text
    .split('\n')
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, n]) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new SourceError(`${file}:${n}: not a JSON line`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new SourceError(`${file}:${n}: not a JSON object`);
      return [value as LogStep & SevLogStep, n] as const;
    });
  const [first] = lines[0] ?? [];
  if (first !== undefined && 'sha256' in first && 'kind' in first) return sevLogSteps(file, lines);
  const steps = lines.map(([s, n]) => {
    if (
      typeof s.gpa !== 'string' ||
      !/^0x[0-9a-f]+$/i.test(s.gpa) ||
      !Number.isSafeInteger(Number(s.gpa)) ||
      typeof s.type !== 'string' ||
      typeof s.contents !== 'string' ||
      !/^[0-9a-f]{96}$/.test(s.contents) ||
      (s.vmsa !== undefined && !isStringRecord(s.vmsa))
    )
      throw new SourceError(
        `${file}:${n}: expected a measurement log line (gpa, type, contents as snp-ref measure --log writes them)`,
      );
    return { step: fromLog(s), after: s.after };
  });
  const source: StepSource = { label: `log ${file}`, kind: 'log', steps: steps.map((s) => s.step) };
  const last = steps.at(-1);
  return last === undefined ? source : { ...source, digest: last.after };
}

async function scenarioSteps(file: string, value: unknown, vm: string | undefined): Promise<StepSource> {
  const { parseScenario, runScenario } = await import('@snp-ref/scenario');
  const parsed = parseScenario(value);
  if (!parsed.ok)
    throw new SourceError(`${file}: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const byAsid = new Map<number, ReturnType<typeof collector>>();
  const result = runScenario(parsed.scenario, undefined, (asid, page) => {
    const c = byAsid.get(asid) ?? collector(true);
    byAsid.set(asid, c);
    c.onPage(page);
  });
  const launched = Object.entries(result.vms).filter(([, v]) => byAsid.has(v.asid));
  const chosen = vm === undefined ? launched[0] : launched.find(([name]) => name === vm);
  if (chosen === undefined) {
    const names = launched.map(([name]) => name).join(', ') || 'none';
    throw new SourceError(
      `${file}: ${vm === undefined ? 'no VM measured a page' : `VM "${vm}" measured no page`} (VMs that did: ${names})`,
    );
  }
  const [name, info] = chosen;
  return {
    label: `scenario ${file}, VM ${name}`,
    kind: 'scenario',
    steps: byAsid.get(info.asid)?.steps ?? [],
    ...(info.measurement !== null && { digest: info.measurement }),
  };
}

/** QEMU's page-type names (target/i386/sev.c snp_page_type_to_str). */
const QEMU_TYPES: Readonly<Record<string, string>> = {
  normal: 'NORMAL',
  zero: 'ZERO',
  unmeasured: 'UNMEASURED',
  secrets: 'SECRETS',
  cpuid: 'CPUID',
  vmsa: 'VMSA',
};

/** One traced LAUNCH_UPDATE range: [gpa, end) of one page type. */
interface TracedRange {
  readonly gpa: number;
  readonly end: number;
  readonly type: string;
}

/**
 * Whether `range` is the remainder of `previous` re-issued, not new pages. QEMU's
 * sev_snp_launch_update (target/i386/sev.c) loops `while (update.len || ret == -EAGAIN)` and traces
 * each ioctl with the struct as it stands; upstream snp_launch_update (arch/x86/kvm/svm/sev.c) writes
 * gfn_start, uaddr and len back advanced past the pages it populated. So the next line starts
 * inside the previous range, with the same type, and ends where it ends: its pages are counted once.
 */
const continues = (range: TracedRange, previous: TracedRange | undefined): boolean =>
  previous !== undefined &&
  range.type === previous.type &&
  range.gpa >= previous.gpa &&
  range.gpa < previous.end &&
  range.end === previous.end;

/**
 * kvm_sev_snp_launch_update events, as QEMU's log trace backend prints them from
 * target/i386/trace-events ("src 0x%" PRIx64 " gpa 0x%" PRIx64 " len 0x%" PRIx64 " (%s page)"),
 * with or without the pid@time: prefix; simpletrace's "gpa=0x… len=0x… type=…" form too.
 * A line that continues the previous one (`continues`) adds no page.
 */
function qemuTraceSteps(file: string, text: string): StepSource {
  const steps: DiffStep[] = [];
  let previous: TracedRange | undefined;
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.includes('kvm_sev_snp_launch_update')) continue;
    const gpa = /\bgpa[ =](0x[0-9a-f]+)/i.exec(line)?.[1];
    const len = /\blen[ =](0x[0-9a-f]+)/i.exec(line)?.[1];
    const typeName = (/\((\w+) page\)/.exec(line) ?? /\btype=(\w+)/.exec(line))?.[1];
    const type = typeName && QEMU_TYPES[typeName.toLowerCase()];
    if (gpa === undefined || len === undefined || type === undefined || Number(len) % PAGE_SIZE !== 0)
      throw new SourceError(
        `${file}:${i + 1}: expected "gpa 0x… len 0x… (Type page)" with len a multiple of 4096`,
      );
    const range: TracedRange = { gpa: Number(gpa), end: Number(gpa) + Number(len), type };
    if (continues(range, previous)) continue;
    previous = range;
    for (let at = range.gpa; at < range.end; at += PAGE_SIZE) steps.push({ gpa: at, type });
  }
  if (steps.length === 0) throw new SourceError(`${file}: no kvm_sev_snp_launch_update event`);
  return { label: `QEMU trace ${file}`, kind: 'qemu-trace', steps };
}

/** Reads any of the four kinds of file, telling them apart by their contents. */
export async function readSteps(file: string, files: Files, vm?: string): Promise<StepSource> {
  const text = files.readText(file);
  if (text.includes('kvm_sev_snp_launch_update')) return qemuTraceSteps(file, text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    if (text.trimStart().startsWith('{')) return logSteps(file, text);
    throw new SourceError(`${file}: not a plan, a measurement log, a scenario or a QEMU trace`);
  }
  if (typeof value === 'object' && value !== null && 'ops' in value)
    return planSteps(file, value, dirname(files.path(file)));
  if (typeof value === 'object' && value !== null && 'scenario' in value)
    return scenarioSteps(file, value, vm);
  if (typeof value === 'object' && value !== null && ('contents' in value || 'sha256' in value))
    return logSteps(file, text);
  throw new SourceError(`${file}: a JSON file that is neither a plan ("ops") nor a scenario ("scenario")`);
}
