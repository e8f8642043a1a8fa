// What `snp-ref measure` measures: a plan file, or the launch sev-snp-measure's flags describe.
import { dirname } from 'node:path';
import { FirmwareInputError, type LaunchPlan, parseLaunchPlan } from '@snp-ref/psp-firmware/measure';
import { optionKey } from '../commandLine/command.js';
import { CliInputError } from '../commandLine/inputError.js';
import type { CliIo } from '../commandLine/io.js';
import type { Files } from '../files.js';
import { OVMF_FLAG_NAMES, ovmfFlags } from '../ovmfFlags.js';
import { type OvmfLaunch, ovmfLaunch } from '../ovmfMeasure.js';
import { withBaseDir } from '../planFiles.js';
import type { MeasureOptions } from './measureOptions.js';

/** `read()`, its input errors prefixed with what they are about (a file, a mode), which the packages cannot name. */
async function about<T>(source: string, read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof FirmwareInputError) throw new CliInputError('INPUT', `${source}: ${error.message}`);
    throw error;
  }
}

/** What to measure: a plan read from --plan, or the launch the OVMF flags lay out (with its VMSAs). */
export async function measuredPlan(
  options: MeasureOptions,
  io: CliIo,
  files: Files,
): Promise<
  | OvmfLaunch
  | {
      readonly plan: LaunchPlan;
      readonly mode?: undefined;
      readonly vmsas?: undefined;
      readonly images?: undefined;
    }
> {
  const { plan, mode, outputFormat } = options;
  if (outputFormat !== undefined && outputFormat !== 'hex' && outputFormat !== 'base64')
    throw new CliInputError('USAGE', `--output-format: expected hex or base64, got ${outputFormat}`);
  if (plan !== undefined) {
    const given: Readonly<Record<string, unknown>> = options;
    const stray = OVMF_FLAG_NAMES.find((flag) => given[optionKey(flag)] !== undefined);
    if (stray !== undefined)
      throw new CliInputError('USAGE', `${stray}: not used with --plan (the plan says what to measure)`);
    const file = plan === true ? '-' : plan;
    const baseDir = dirname(files.path(file));
    return { plan: await about(file, () => withBaseDir(parseLaunchPlan(files.readJson(file)), baseDir)) };
  }
  if (mode === undefined)
    throw new CliInputError(
      'USAGE',
      '--plan or --mode: say what to measure (a plan file, or --mode sev|seves|snp|snp:ovmf-hash|snp:svsm with --ovmf)',
    );
  return about(mode, () =>
    ovmfLaunch({ ...ovmfFlags(options), mode }, io.cwd, (note) => io.stderr(`${note}\n`)),
  );
}
