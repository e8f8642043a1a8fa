// `snp-ref measure`: the launch digest of a plan or of an OVMF guest, or the launch itself
// (--dump-plan, --explain-vmsa, --dump-vmsa, --log).
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
import { filesOf } from '../files.js';
import { formatVmsaProvenance } from '../format/vmsa.js';
import { progressOn } from '../progress.js';
import { measuredPlan } from './measuredPlan.js';
import { openLog } from './measureLogFile.js';
import { MEASURE_OPTIONS } from './measureOptions.js';

/** The plan's digest: NORMAL file pages hashed on all cores with --parallel, progress on a terminal. */
async function measure(
  io: CliIo,
  plan: LaunchPlan,
  parallel: boolean,
  onPage?: (page: MeasuredPage, op: number) => void,
) {
  const hasher = parallel ? await ParallelPageHasher.create() : undefined;
  const progress = progressOn(io, 'measuring');
  try {
    return await measurePlanWithFiles(plan, {
      baseDir: io.cwd,
      ...(hasher && { hasher }),
      ...(progress && { onProgress: progress }),
      ...(onPage && { onPage }),
    });
  } finally {
    progress?.(0, 0);
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
    const { plan, vmsas } = await measuredPlan(options, io, files);
    if (options.explainVmsa) {
      io.stdout(options.json ? `${JSON.stringify(vmsas, bigintsAsHex, 2)}\n` : formatVmsaProvenance(vmsas));
      return;
    }
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
    const log = logFile === undefined ? undefined : openLog(io, files, logFile, options.format ?? 'json');
    const measured = await measure(io, plan, options.parallel, log?.onPage);
    log?.close();
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
    const ovmfHashOnly = options.mode === 'snp:ovmf-hash';
    const base64 = options.outputFormat === 'base64' && !ovmfHashOnly;
    const digest = base64 ? Buffer.from(measured.digest, 'hex').toString('base64') : measured.digest;
    const guest = ovmfHashOnly ? '' : 'Calculated SEV_SNP guest measurement: ';
    io.stdout(`${options.verbose ? guest : ''}${digest}\n`);
  },
});
