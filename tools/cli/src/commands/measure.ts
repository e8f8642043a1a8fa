// `snp-ref measure`: the launch digest of a plan or of an OVMF guest, or the launch itself
// (--dump-plan, --explain-vmsa, --dump-vmsa, --log, --emit-scenario). SEV and SEV-ES launches:
// measureSev.ts.
import {
  explicitPage,
  type LaunchPlan,
  launchPlanJson,
  type MeasuredPage,
  measurePlanWithFiles,
  ParallelPageHasher,
} from '@snp-ref/psp-firmware/measure';
import { hex, PAGE_SIZE } from '@snp-ref/rmp-core';
import { defineCommand } from '../commandLine/command.js';
import type { CliIo } from '../commandLine/io.js';
import { scenarioEmitter } from '../emitScenario.js';
import { filesOf } from '../files.js';
import { formatVmsaProvenance } from '../format/vmsa.js';
import { logStep, PAGE_LOG } from '../measureLog.js';
import { progressOn } from '../progress.js';
import { measuredPlan } from './measuredPlan.js';
import { openLog } from './measureLogFile.js';
import { MEASURE_OPTIONS } from './measureOptions.js';
import { measureSev, printDigest } from './measureSev.js';

/**
 * The plan's digest: NORMAL file pages hashed on all cores with --parallel, progress on a terminal;
 * `images` are files already read (the firmware), measured from memory.
 */
async function measure(
  io: CliIo,
  plan: LaunchPlan,
  images: ReadonlyMap<string, Uint8Array> | undefined,
  parallel: boolean,
  onPage?: (page: MeasuredPage, op: number) => void,
) {
  const hasher = parallel ? await ParallelPageHasher.create() : undefined;
  const progress = progressOn(io, 'measuring');
  try {
    return await measurePlanWithFiles(plan, {
      baseDir: io.cwd,
      ...(hasher && { hasher }),
      onProgress: progress,
      ...(onPage && { onPage }),
      ...(images && { loaded: images }),
    });
  } finally {
    progress(0, 0);
    await hasher?.close();
  }
}

const bigintsAsHex = (_: string, v: unknown) => (typeof v === 'bigint' ? hex(v) : v);

export const measureCommand = defineCommand({
  name: 'measure',
  summary:
    "Compute a launch digest: of a plan (--plan), or of an OVMF guest with sev-snp-measure's flags (--mode)",
  arguments: [],
  options: MEASURE_OPTIONS,
  action: async ({ options }, io) => {
    const files = filesOf(io);
    const launch = await measuredPlan(options, io, files);
    const emit =
      options.emitScenario === undefined
        ? undefined
        : scenarioEmitter(options.emitScenario, launch, options, files);
    if (options.explainVmsa) {
      const { vmsas, mode } = launch;
      io.stdout(
        options.json
          ? `${JSON.stringify(vmsas ?? [], bigintsAsHex, 2)}\n`
          : formatVmsaProvenance(vmsas, mode),
      );
      return;
    }
    if ('sev' in launch) return measureSev(launch, options, io, files);
    const { plan } = launch;
    if (options.dumpPlan) {
      io.stdout(`${JSON.stringify(launchPlanJson(plan), null, 2)}\n`);
      return;
    }
    if (options.dumpVmsa) {
      const pages = plan.ops.filter((op) => op.op === 'vmsa');
      for (const [i, op] of pages.entries())
        files.writeText(`vmsa${i}.bin`, explicitPage(op, 0) ?? new Uint8Array(PAGE_SIZE));
    }
    const logFile = options.log === true ? '-' : options.log;
    const log =
      logFile === undefined ? undefined : openLog(io, files, logFile, options.format ?? 'json', PAGE_LOG);
    let index = 0;
    const onPage = log && ((page: MeasuredPage, op: number) => log.write(logStep(index++, page, op)));
    const measured = await measure(io, plan, launch.images, options.parallel, onPage);
    log?.close();
    emit?.(measured.digest);
    if (logFile === '-') return;
    if (options.json) {
      const steps = measured.steps.map((s) => ({
        op: s.op.op,
        gpa: hex(s.op.gpa),
        pages: s.op.pages,
        digest: s.digest,
      }));
      io.stdout(`${JSON.stringify({ name: plan.name, digest: measured.digest, steps }, null, 2)}\n`);
      return;
    }
    printDigest(io, options, launch.mode, measured.digest);
  },
});
