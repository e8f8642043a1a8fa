// `snp-ref report`: show every field of a real attestation report, or verify it and say why it fails.
import { defineCommand, optionKey } from '../commandLine/command.js';
import { CliInputError } from '../commandLine/inputError.js';
import { filesOf } from '../files.js';

const VERIFY_ONLY = [
  '--vcek',
  '--vlek',
  '--ca',
  '--measurement',
  '--report-data',
  '--host-data',
  '--id-key-digest',
  '--author-key-digest',
  '--policy',
  '--min-tcb',
  '--vmpl',
  '--at',
  '--no-check-time',
] as const;

const hexFlag = (flag: `--${string}`, bytes: number, field: string) =>
  ({ flag, type: 'string', value: 'hex', description: `the expected ${field} (${bytes} bytes)` }) as const;

export const reportCommand = defineCommand({
  name: 'report',
  summary:
    'Read a real attestation report: `show FILE` names every field; `verify FILE` checks signature, AMD chain, TCB, chip id and expected values, and says why one fails',
  arguments: [
    { name: 'action', required: true },
    { name: 'file', required: true },
  ],
  options: [
    {
      flag: '--vcek',
      type: 'string',
      value: 'cert',
      description: 'the VCEK that signed it (DER or PEM; a PEM bundle may carry ASK and ARK)',
    },
    { flag: '--vlek', type: 'string', value: 'cert', description: 'the VLEK that signed it (DER or PEM)' },
    {
      flag: '--ca',
      type: 'string',
      value: 'chain',
      description: "the ASK (or ASVK) and ARK, as AMD's KDS serves the product's cert_chain",
    },
    {
      flag: '--product',
      type: 'string',
      value: 'name',
      description: 'Milan, Genoa or Turin (default: from the report or the certificate)',
    },
    hexFlag('--measurement', 48, 'MEASUREMENT'),
    hexFlag('--report-data', 64, 'REPORT_DATA'),
    hexFlag('--host-data', 32, 'HOST_DATA'),
    hexFlag('--id-key-digest', 48, 'ID_KEY_DIGEST'),
    hexFlag('--author-key-digest', 48, 'AUTHOR_KEY_DIGEST'),
    { flag: '--policy', type: 'string', value: 'value', description: 'the expected guest POLICY (0x30000)' },
    {
      flag: '--min-tcb',
      type: 'string',
      value: 'tcb',
      description: 'minimum REPORTED_TCB: a TCB_VERSION number, or bl=N,tee=N,snp=N,ucode=N[,fmc=N]',
    },
    { flag: '--vmpl', type: 'string', value: 'n', description: 'the expected VMPL (0 to 3)' },
    {
      flag: '--at',
      type: 'string',
      value: 'date',
      description: 'check certificate validity at this date (default: now)',
    },
    { flag: '--no-check-time', type: 'boolean', description: 'do not check certificate validity dates' },
    { flag: '--json', type: 'boolean', description: 'print the fields, or {ok, checks}, as JSON' },
  ],
  action: async ({ args, options }, io) => {
    const {
      decodeAttestationReport,
      MAX_REPORT_INPUT_BYTES,
      productOfCpuid,
      ReportFormatError,
      readReportInput,
      verifyAttestation,
    } = await import('@snp-ref/attestation');
    const { formatShown, formatVerdict, showReport } = await import('../report/format.js');
    const { productOption, verifyOptionsOf } = await import('../report/verifyOptions.js');
    if (args.action !== 'show' && args.action !== 'verify')
      throw new CliInputError('USAGE', `report: expected show or verify, got "${args.action}"`);
    const files = filesOf(io);
    const bytes = files.readBytes(args.file, MAX_REPORT_INPUT_BYTES);
    const { input, report } = (() => {
      try {
        const found = readReportInput(bytes);
        return { input: found, report: decodeAttestationReport(found.report) };
      } catch (error) {
        if (error instanceof ReportFormatError)
          throw new CliInputError('INPUT', `${args.file}: ${error.message}`);
        throw error;
      }
    })();
    const json = (value: unknown) => io.stdout(`${JSON.stringify(value, null, 2)}\n`);
    if (args.action === 'show') {
      const given = VERIFY_ONLY.filter((flag) => hasOption(options, flag));
      if (given.length > 0) throw new CliInputError('USAGE', `${given.join(', ')}: only for report verify`);
      const named = productOption(options.product);
      const { cpuidFamId, cpuidModId } = report.fields;
      const fromCpuid =
        cpuidFamId === undefined || cpuidModId === undefined
          ? undefined
          : productOfCpuid(cpuidFamId, cpuidModId);
      const product =
        named !== undefined
          ? { name: named, from: '--product' }
          : fromCpuid !== undefined
            ? { name: fromCpuid, from: 'CPUID_FAM_ID, CPUID_MOD_ID' }
            : null;
      const shown = showReport(report, input.container, product);
      if (options.json) json(shown);
      else io.stdout(formatShown(shown));
      return 0;
    }
    const verdict = verifyAttestation(report, verifyOptionsOf(options, files, new Date()));
    if (options.json) json({ ok: verdict.ok, checks: verdict.checks });
    else io.stdout(formatVerdict(verdict));
    return verdict.ok ? 0 : 1;
  },
});

/** Whether a verify-only option was given (its value is set, or the flag is true). */
function hasOption(options: Readonly<Record<string, unknown>>, flag: string): boolean {
  const value = options[optionKey(flag)];
  return value !== undefined && value !== false;
}
