// `snp-ref measure --mode sev|seves`: one SHA-256 over the regions the launch encrypts, printed,
// logged region by region (--log), or as JSON; and how every mode prints its digest.
import { measureSevLaunch, type SevLaunch } from '@snp-ref/psp-firmware/measure';
import { CliInputError } from '../commandLine/inputError.js';
import type { CliIo } from '../commandLine/io.js';
import type { Files } from '../files.js';
import { SEV_LOG, sevLogStep } from '../measureLog.js';
import { GUEST_MODES, type GuestMode } from '../ovmfMeasure.js';
import { openLog } from './measureLogFile.js';
import type { MeasureOptions } from './measureOptions.js';

/** The digest as sev-snp-measure prints it (cli.py print_measurement; snp:ovmf-hash: bare hex). */
export function printDigest(
  io: CliIo,
  options: MeasureOptions,
  mode: GuestMode | undefined,
  digestHex: string,
) {
  const ovmfHashOnly = mode === 'snp:ovmf-hash';
  const base64 = options.outputFormat === 'base64' && !ovmfHashOnly;
  const digest = base64 ? Buffer.from(digestHex, 'hex').toString('base64') : digestHex;
  const label = ovmfHashOnly ? '' : `Calculated ${GUEST_MODES[mode ?? 'snp'].label} guest measurement: `;
  io.stdout(`${options.verbose ? label : ''}${digest}\n`);
}

/** Why a view of PAGE_INFO chains does not apply to SEV and SEV-ES. */
const NOT_A_CHAIN =
  'SEV and SEV-ES measure one SHA-256 over the firmware, the kernel hashes table and the VMSAs, not a PAGE_INFO chain of typed pages';

export function measureSev(
  launch: { readonly mode: GuestMode; readonly sev: SevLaunch },
  options: MeasureOptions,
  io: CliIo,
  files: Files,
): void {
  const { mode, sev } = launch;
  if (options.dumpPlan)
    throw new CliInputError(
      'USAGE',
      `--dump-plan: a plan is a PAGE_INFO chain; ${NOT_A_CHAIN} (--log lists its regions)`,
    );
  const vmsas = sev.regions.filter((r) => r.kind === 'vmsa');
  if (options.dumpVmsa) {
    // sev-snp-measure cli.py: "--dump-vmsa is not availibe in the selected mode".
    if (mode === 'sev')
      throw new CliInputError(
        'USAGE',
        "--dump-vmsa: not available in guest mode 'sev' (SEV measures no VMSA)",
      );
    for (const [i, vmsa] of vmsas.entries()) files.writeText(`vmsa${i}.bin`, vmsa.bytes);
  }
  const measured = measureSevLaunch(sev);
  const logFile = options.log === true ? '-' : options.log;
  if (logFile !== undefined) {
    const log = openLog(io, files, logFile, options.format ?? 'json', SEV_LOG);
    for (const [i, step] of measured.steps.entries()) log.write(sevLogStep(i, sev.mode, step));
    log.close();
    if (logFile === '-') return;
  }
  if (options.json) {
    const steps = measured.steps.map((step, i) => sevLogStep(i, sev.mode, step));
    io.stdout(`${JSON.stringify({ mode, digest: measured.digest, note: NOT_A_CHAIN, steps }, null, 2)}\n`);
    return;
  }
  printDigest(io, options, mode, measured.digest);
}
