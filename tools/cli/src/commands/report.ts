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
  '--platform-info',
  '--min-tcb',
  '--min-launch-tcb',
  '--vmpl',
  '--at',
  '--no-check-time',
] as const;

const FETCH_ONLY = ['--out', '--url'] as const;
const ACTIONS = ['show', 'verify', 'fetch-ca', 'fetch-vcek'] as const;
/** The flags each action takes, besides --product (all) and --json (show, verify). */
const FLAGS_OF: Readonly<Record<(typeof ACTIONS)[number], readonly string[]>> = {
  show: [],
  verify: VERIFY_ONLY,
  'fetch-ca': [...FETCH_ONLY, '--vlek'],
  'fetch-vcek': FETCH_ONLY,
};

const hexFlag = (flag: `--${string}`, bytes: number, field: string) =>
  ({ flag, type: 'string', value: 'hex', description: `the expected ${field} (${bytes} bytes)` }) as const;

export const reportCommand = defineCommand({
  name: 'report',
  summary:
    'Read a real attestation report: `show FILE` names every field; `verify FILE` checks signature, AMD chain, TCB, chip id and expected values, and says why one fails; `fetch-ca`, `fetch-vcek FILE` download AMD certificates',
  arguments: [{ name: 'action', required: true }, { name: 'file' }],
  options: [
    {
      flag: '--vcek',
      type: 'string',
      value: 'cert',
      description: 'the VCEK that signed it (DER or PEM; a PEM bundle may carry ASK and ARK)',
    },
    {
      flag: '--vlek',
      type: 'optional-string',
      value: 'cert',
      description: 'the VLEK that signed it (DER or PEM); fetch-ca --vlek: the ASVK chain',
    },
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
    {
      flag: '--policy',
      type: 'string',
      value: 'max',
      description:
        'the most permissive POLICY accepted: ABI no lower, no SMT/MIGRATE_MA/DEBUG/CXL_ALLOW it lacks, every restriction it sets',
    },
    {
      flag: '--platform-info',
      type: 'string',
      value: 'max',
      description:
        'the most PLATFORM_INFO may have: no SMT_EN/TSME_EN/TIO_EN it lacks, every other bit it sets',
    },
    {
      flag: '--min-tcb',
      type: 'string',
      value: 'tcb',
      description:
        'minimum of REPORTED_TCB, CURRENT_TCB and COMMITTED_TCB: a TCB_VERSION number, or bl=N,tee=N,snp=N,ucode=N[,fmc=N]',
    },
    {
      flag: '--min-launch-tcb',
      type: 'string',
      value: 'tcb',
      description: 'minimum LAUNCH_TCB, as --min-tcb',
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
    {
      flag: '--out',
      type: 'string',
      value: 'file',
      description: 'fetch-ca, fetch-vcek: where to write (default cert_chain.pem, vcek.der)',
    },
    { flag: '--url', type: 'boolean', description: 'fetch-ca, fetch-vcek: print the KDS URL, fetch nothing' },
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
    if (!ACTIONS.includes(args.action as (typeof ACTIONS)[number]))
      throw new CliInputError('USAGE', `report: expected ${ACTIONS.join(', ')}, got "${args.action}"`);
    const misplaced = [...VERIFY_ONLY, ...FETCH_ONLY].filter(
      (flag) => hasOption(options, flag) && !FLAGS_OF[args.action as (typeof ACTIONS)[number]].includes(flag),
    );
    if (misplaced.length > 0)
      throw new CliInputError('USAGE', `${misplaced.join(', ')}: not used by report ${args.action}`);
    const files = filesOf(io);
    const fetching = await import('../report/fetch.js');
    if (args.action === 'fetch-ca') {
      if (args.file !== undefined)
        throw new CliInputError('USAGE', 'report fetch-ca: takes no FILE, only --product');
      const url = fetching.certChainUrl(productOption(options.product), options);
      await fetching.fetchToFile(url, options.out ?? 'cert_chain.pem', options, io, files);
      return 0;
    }
    const file = args.file;
    if (file === undefined)
      throw new CliInputError('USAGE', `report ${args.action}: FILE is required (the report)`);
    const bytes = files.readBytes(file, MAX_REPORT_INPUT_BYTES);
    const { input, report } = (() => {
      try {
        const found = readReportInput(bytes);
        return { input: found, report: decodeAttestationReport(found.report) };
      } catch (error) {
        if (error instanceof ReportFormatError) throw new CliInputError('INPUT', `${file}: ${error.message}`);
        throw error;
      }
    })();
    const named = productOption(options.product);
    const { cpuidFamId, cpuidModId } = report.fields;
    const fromCpuid =
      cpuidFamId === undefined || cpuidModId === undefined
        ? undefined
        : productOfCpuid(cpuidFamId, cpuidModId);
    if (args.action === 'fetch-vcek') {
      const url = fetching.vcekUrl(report, named ?? fromCpuid, file);
      await fetching.fetchToFile(url, options.out ?? 'vcek.der', options, io, files);
      return 0;
    }
    const json = (value: unknown) => io.stdout(`${JSON.stringify(value, null, 2)}\n`);
    if (args.action === 'show') {
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
    const vlek = typeof options.vlek === 'string' ? options.vlek : undefined;
    if (options.vlek === true) throw new CliInputError('USAGE', '--vlek: give the VLEK certificate file');
    const verdict = verifyAttestation(report, verifyOptionsOf({ ...options, vlek }, files, new Date()));
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
