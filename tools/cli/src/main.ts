// snp-ref: run SEV-SNP launch scenarios, measure launch plans, show the RMP.
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  explicitPage,
  FirmwareInputError,
  type LaunchPlan,
  launchPlanJson,
  type MeasuredPage,
  measurePlanWithFiles,
  ParallelPageHasher,
  PlanError,
  type PlanMeasurement,
  parseLaunchPlan,
} from '@snp-ref/psp-firmware/measure';
import { entryText, formatFtrace, hex, TraceRing, toChromeTrace } from '@snp-ref/rmp-core';
import { cac } from 'cac';
import { rmpSvg } from './format/svg.js';
import { formatResultText } from './format/text.js';
import { formatVmsaProvenance } from './format/vmsa.js';
import type { FuzzOptions } from './fuzz/command.js';
import { LOG_TABLE_HEADER, logStep, logTableRow } from './measureLog.js';
import { FlagError, OVMF_FLAG_NAMES, type OvmfLaunch, ovmfFlags, ovmfLaunch } from './ovmfMeasure.js';
import { withBaseDir } from './planFiles.js';
import { progressReporter } from './progress.js';

/** Exit codes (SCENARIO.md): 0 ran, 2 the input is not valid, 1 internal error. */
const EXIT_INVALID = 2;

/** A problem with the user's input: printed as one line per problem, exit 2, no stack trace. */
class InputError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

function readInput(file: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError([`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
}

function readJson(file: string): unknown {
  const text = readInput(file);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError([`${file}: not JSON (${(error as Error).message})`]);
  }
}

// The scenario modules (zod, kvm-svm, guest) load only for the commands that need them: measure
// starts faster without them.
const scenarioModules = () => import('@snp-ref/scenario');

async function loadScenario(file: string) {
  const { parseScenario } = await scenarioModules();
  const parsed = parseScenario(readJson(file));
  if (!parsed.ok) throw new InputError(parsed.problems.map((p) => `${p.path}: ${p.message}`));
  return parsed.scenario;
}

const cli = cac('snp-ref');

cli
  .command(
    'run [file]',
    'Run a scenario (../shared/SCENARIO.md) and print its result; no file or - reads stdin',
  )
  .option('--format <format>', 'json or text', { default: 'json' })
  .option('--trace <kind>', 'also write the RMP transition trace: ftrace or perfetto')
  .option('--trace-out <file>', 'where --trace writes (default: stdout after the result)')
  .action(
    async (file: string | undefined, options: { format: string; trace?: string; traceOut?: string }) => {
      if (options.format !== 'json' && options.format !== 'text')
        throw new InputError([`--format: expected json or text, got ${options.format}`]);
      if (options.trace !== undefined && options.trace !== 'ftrace' && options.trace !== 'perfetto') {
        throw new InputError([`--trace: expected ftrace or perfetto, got ${options.trace}`]);
      }
      const ring = new TraceRing(1 << 20);
      const scenario = await loadScenario(file ?? '-');
      const { runScenario } = await scenarioModules();
      const result = runScenario(scenario, ring);
      const json = (value: unknown) => JSON.stringify(value, null, 2);
      process.stdout.write(
        options.format === 'json' ? `${json(result)}\n` : formatResultText(result, scenario),
      );
      if (options.trace !== undefined) {
        const trace =
          options.trace === 'ftrace'
            ? formatFtrace(ring.events())
            : `${json(toChromeTrace(ring.events()))}\n`;
        if (options.traceOut === undefined) process.stdout.write(trace);
        else writeFileSync(options.traceOut, trace);
      }
    },
  );

cli.command('schema', 'Print the scenario format as a JSON Schema (draft 2020-12)').action(async () => {
  const { scenarioJsonSchema } = await scenarioModules();
  process.stdout.write(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
});

cli
  .command(
    'measure',
    "Compute a launch digest: of a plan (--plan), or of an OVMF guest with sev-snp-measure's flags (--mode)",
  )
  .option('--plan [file]', 'the plan (JSON); - or no file reads stdin')
  .option('--mode <mode>', 'snp: an OVMF guest launch; snp:ovmf-hash: the firmware pages only')
  .option('--ovmf <path>', 'the OVMF image (with --mode)')
  .option('--vcpus <n>', 'number of vCPUs: one VMSA page each')
  .option('--vcpu-type <type>', 'QEMU CPU model giving the CPUID signature (EPYC, EPYC-v4, EPYC-Milan, …)')
  .option('--vcpu-sig <value>', 'the CPUID signature itself')
  .option('--vcpu-family <n>', 'the signature from family, --vcpu-model and --vcpu-stepping')
  .option('--vcpu-model <n>', 'see --vcpu-family')
  .option('--vcpu-stepping <n>', 'see --vcpu-family')
  .option('--vmm-type <type>', 'QEMU (default), ec2 or gce: their initial vCPU state differs')
  .option('--guest-features <value>', 'SEV_FEATURES of the VMSAs (default 0x1)')
  .option('--kernel <path>', 'measure the kernel hashes table (-kernel), with --initrd and --append')
  .option('--initrd <path>', 'the initrd (with --kernel)')
  .option('--append <cmdline>', 'the kernel command line (with --kernel)')
  .option('--snp-ovmf-hash <hex>', 'start from this precomputed --mode snp:ovmf-hash digest')
  .option('--output-format <format>', 'hex (default) or base64')
  .option('-v, --verbose', 'print "Calculated SEV_SNP guest measurement: …" as sev-snp-measure -v does')
  .option('--dump-plan', 'print the launch as a plan (the --plan format) instead of its digest')
  .option('--dump-vmsa', 'also write each measured VMSA page to vmsa<N>.bin')
  .option('--explain-vmsa', 'print each VMSA field the launch sets, its value and where it comes from')
  .option(
    '--log [file]',
    'write every measured page (gpa, type, SHA-384, digest before and after) to a file; no file or - for stdout',
  )
  .option('--format <format>', 'of --log: json (JSON lines, default) or table')
  .option('--json', 'print the digest and the digest after each op as JSON')
  .option('--parallel', 'hash NORMAL file pages on all cores (same digest)')
  .action(async (options: MeasureOptions) => {
    const { plan, vmsas } = await measuredPlan(options);
    if (options.explainVmsa === true) {
      process.stdout.write(
        options.json === true
          ? `${JSON.stringify(vmsas, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v), 2)}\n`
          : formatVmsaProvenance(vmsas),
      );
      return;
    }
    if (options.dumpPlan === true) {
      process.stdout.write(`${JSON.stringify(launchPlanJson(plan), null, 2)}\n`);
      return;
    }
    if (options.dumpVmsa === true) {
      const vmsas = plan.ops.filter((op) => op.op === 'vmsa');
      for (const [i, op] of vmsas.entries())
        writeFileSync(`vmsa${i}.bin`, explicitPage(op, 0) ?? new Uint8Array(4096));
    }
    const logFile = options.log === true ? '-' : options.log;
    const log =
      logFile === undefined || logFile === false ? undefined : openLog(logFile, options.format ?? 'json');
    const measured = await measure(plan, options, log?.onPage);
    log?.close();
    if (logFile === '-') return;
    if (options.json === true) {
      const steps = measured.steps.map((s) => ({
        op: s.op.op,
        gpa: hex(s.op.gpa),
        pages: s.op.pages,
        digest: s.digest,
      }));
      process.stdout.write(
        `${JSON.stringify({ name: plan.name, digest: measured.digest, steps }, null, 2)}\n`,
      );
      return;
    }
    const base64 = options.outputFormat === 'base64' && options.mode !== 'snp:ovmf-hash';
    const digest = base64 ? Buffer.from(measured.digest, 'hex').toString('base64') : measured.digest;
    const guest = options.mode === 'snp:ovmf-hash' ? '' : 'Calculated SEV_SNP guest measurement: ';
    process.stdout.write(`${options.verbose === true ? guest : ''}${digest}\n`);
  });

interface MeasureOptions {
  plan?: string | boolean;
  mode?: string;
  outputFormat?: string;
  verbose?: boolean;
  dumpPlan?: boolean;
  dumpVmsa?: boolean;
  explainVmsa?: boolean;
  log?: string | boolean;
  format?: string;
  json?: boolean;
  parallel?: boolean;
}

/** The plan to measure: read from --plan, or laid out from the OVMF flags (with its VMSAs). */
async function measuredPlan(
  options: MeasureOptions,
): Promise<Pick<OvmfLaunch, 'plan'> & Partial<OvmfLaunch>> {
  if (
    options.outputFormat !== undefined &&
    options.outputFormat !== 'hex' &&
    options.outputFormat !== 'base64'
  )
    throw new InputError([`--output-format: expected hex or base64, got ${options.outputFormat}`]);
  if (options.plan !== undefined) {
    const stray = OVMF_FLAG_NAMES.find((flag) =>
      process.argv.some((a) => a === flag || a.startsWith(`${flag}=`)),
    );
    if (stray !== undefined)
      throw new InputError([`${stray}: not used with --plan (the plan says what to measure)`]);
    const file = typeof options.plan === 'string' ? options.plan : '-';
    try {
      return {
        plan: withBaseDir(parseLaunchPlan(readJson(file)), file === '-' ? process.cwd() : dirname(file)),
      };
    } catch (error) {
      if (error instanceof PlanError) throw new InputError([`${file}: ${error.message}`]);
      throw error;
    }
  }
  if (options.mode === undefined)
    throw new InputError(['--plan or --mode: say what to measure (a plan file, or --mode snp with --ovmf)']);
  try {
    return await ovmfLaunch({ ...ovmfFlags(process.argv), mode: options.mode });
  } catch (error) {
    if (error instanceof FlagError) throw new InputError([error.message]);
    if (error instanceof FirmwareInputError) throw new InputError([`${options.mode}: ${error.message}`]);
    throw error;
  }
}

/** A measurement log being written: JSON lines or table rows, flushed in blocks so a long log streams. */
function openLog(file: string, format: string) {
  if (format !== 'json' && format !== 'table')
    throw new InputError([`--format: expected json or table, got ${format}`]);
  let fd: number;
  try {
    fd = file === '-' ? 1 : openSync(file, 'w');
  } catch (error) {
    throw new InputError([
      `--log: cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  const lines: string[] = format === 'table' ? [LOG_TABLE_HEADER] : [];
  const flush = () => {
    if (lines.length > 0) writeSync(fd, `${lines.join('\n')}\n`);
    lines.length = 0;
  };
  let index = 0;
  return {
    onPage: (page: MeasuredPage, op: number) => {
      const step = logStep(index++, page, op);
      lines.push(format === 'json' ? JSON.stringify(step) : logTableRow(step));
      if (lines.length >= 4096) flush();
    },
    close: () => {
      flush();
      if (fd !== 1) closeSync(fd);
    },
  };
}

async function measure(
  plan: LaunchPlan,
  options: MeasureOptions,
  onPage?: (page: MeasuredPage, op: number) => void,
): Promise<PlanMeasurement> {
  const hasher = options.parallel === true ? await ParallelPageHasher.create() : undefined;
  const progress = process.stderr.isTTY ? progressReporter('measuring') : undefined;
  try {
    return await measurePlanWithFiles(plan, {
      baseDir: process.cwd(),
      ...(hasher && { hasher }),
      ...(progress && { onProgress: progress }),
      ...(onPage && { onPage }),
    });
  } catch (error) {
    if (error instanceof PlanError) throw new InputError([error.message]);
    throw error;
  } finally {
    progress?.(0, 0);
    await hasher?.close();
  }
}

cli
  .command(
    'diff <a> <b>',
    'Name the first measured page where two launches differ: each a plan, a measurement log, a scenario or a QEMU trace',
  )
  .option(
    '--vm <name>',
    'for a scenario: the VM whose launch to compare (default: the first that measured a page)',
  )
  .option('--json', 'print every difference as JSON')
  .action(async (a: string, b: string, options: { vm?: string; json?: boolean }) => {
    const { readSteps, SourceError } = await import('./diff/steps.js');
    const { compareSteps } = await import('./diff/align.js');
    const { formatComparison } = await import('./diff/report.js');
    let sources: Awaited<ReturnType<typeof readSteps>>[];
    try {
      sources = [await readSteps(a, options.vm), await readSteps(b, options.vm)];
    } catch (error) {
      if (error instanceof SourceError || error instanceof FirmwareInputError)
        throw new InputError([error.message]);
      throw error;
    }
    const [sa, sb] = sources as [
      Awaited<ReturnType<typeof readSteps>>,
      Awaited<ReturnType<typeof readSteps>>,
    ];
    const comparison = compareSteps(sa, sb);
    if (options.json === true) {
      const side = ({ label, kind, steps, digest }: typeof sa) => ({
        label,
        kind,
        pages: steps.length,
        digest,
      });
      process.stdout.write(`${JSON.stringify({ a: side(sa), b: side(sb), ...comparison }, null, 2)}\n`);
    } else {
      process.stdout.write(formatComparison(sa, sb, comparison));
    }
    // As diff(1): 0 the same, 1 different, 2 trouble.
    process.exitCode = comparison.differences.length === 0 ? 0 : 1;
  });

cli
  .command(
    'fuzz',
    'Run random scenarios (up to four VMs, injected failures) and check the invariants after every step',
  )
  .option('--runs <n>', 'sequences to run', { default: 200 })
  .option('--seed <s>', 'seed of sequence 0; sequence k uses seed + k', { default: 1 })
  .option('--steps <n>', 'steps per sequence', { default: 40 })
  .option('--shard <i/n>', 'run only sequences k with k % n = i (shards of one campaign, one per process)')
  .option('--out <dir>', 'where a failing sequence is written, shrunk, as a scenario', { default: '.' })
  .option('--replay <file>', 'check the invariants on one scenario (a file --out wrote) instead')
  .option(
    '--self-test',
    'generate RFC v4 sequences and hold them to the reviewed promises: the invariants must catch it',
  )
  .action(async (options: FuzzOptions) => {
    const { runFuzz } = await import('./fuzz/command.js');
    process.exitCode = runFuzz(options);
  });

cli
  .command('explain', 'List the checks that make a KVM SNP command fail with this ret and fw_error')
  .option('--cmd [command]', 'launch_start, launch_update or launch_finish')
  .option('--ret [errno]', 'the ioctl result: -22, 22 or EINVAL')
  .option('--fw-error [status]', 'kvm_sev_cmd.error: 0 (default), 0x16 or INVALID_PARAM')
  .option('--json', 'print the checks as JSON')
  .allowUnknownOptions()
  .action(async (options: { json?: boolean }) => {
    const { ExplainError, explain, formatExplanation } = await import('./explain.js');
    // Raw values: the argument parser would read "0x16" as a number and "-22" as a flag.
    const raw = (flag: string) => {
      const i = process.argv.indexOf(flag);
      return i < 0
        ? process.argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1)
        : process.argv[i + 1];
    };
    const [cmd, ret] = [raw('--cmd'), raw('--ret')];
    if (cmd === undefined || ret === undefined)
      throw new InputError(['--cmd and --ret are required (e.g. --cmd launch_update --ret -22)']);
    try {
      const e = explain(cmd, ret, raw('--fw-error'));
      process.stdout.write(options.json === true ? `${JSON.stringify(e, null, 2)}\n` : formatExplanation(e));
    } catch (error) {
      if (error instanceof ExplainError) throw new InputError([error.message]);
      throw error;
    }
  });

cli
  .command(
    'decode [kind] [...value]',
    'Name every field of a value: rmp-entry, rmpupdate/psmash/pvalidate/rmpadjust codes, fw-status, policy, sev-features, ghcb-msr, exit-code, npf-info',
  )
  .option('--json', 'print the fields as JSON')
  .action(async (_kind: unknown, _value: unknown, options: { json?: boolean }) => {
    // The raw arguments: the parser would read "0x…" as a (rounded) number and drop a lone "-".
    const args = process.argv.slice(process.argv.indexOf('decode') + 1).filter((a) => a !== '--json');
    const [kind, ...value] = args;
    const { DecodeError, decodeValue, decodedJson, formatDecoded } = await import('./decode/decode.js');
    const { KINDS } = await import('./decode/kinds.js');
    if (kind === undefined || value.length === 0) {
      const kinds = Object.entries(KINDS).map(([name, k]) => `  ${name.padEnd(10)} ${k.summary}`);
      if (kind === undefined) {
        process.stdout.write(`snp-ref decode KIND VALUE, where KIND is one of:\n${kinds.join('\n')}\n`);
        return;
      }
      throw new InputError([`VALUE: what to decode as ${kind} is missing`]);
    }
    try {
      const decoded = decodeValue(kind, value.join(' '));
      process.stdout.write(
        options.json === true ? `${JSON.stringify(decodedJson(decoded), null, 2)}\n` : formatDecoded(decoded),
      );
    } catch (error) {
      if (error instanceof DecodeError) throw new InputError([error.message]);
      throw error;
    }
  });

cli
  .command(
    'rmp',
    'Run a scenario and print the RMP entries that are not all zero; --svg draws the host memory',
  )
  .option('--scenario <file>', 'the scenario to run first')
  .option('--svg <file>', 'also draw the host memory as an SVG map, coloured by owner')
  .action(async (options: { scenario?: string; svg?: string }) => {
    if (options.scenario === undefined) throw new InputError(['--scenario: a scenario file is required']);
    const { runScenario } = await scenarioModules();
    const scenario = await loadScenario(options.scenario);
    const result = runScenario(scenario);
    if (options.svg !== undefined) writeFileSync(options.svg, rmpSvg(scenario.host.pages, result.rmp));
    const lines = Object.entries(result.rmp).map(
      ([pfn, e]) =>
        `${pfn.padStart(10)}  ${entryText({ ...e, gpa: Number(e.gpa), vmplPerms: [e.vmplPerms?.[0] ?? 0, e.vmplPerms?.[1] ?? 0, e.vmplPerms?.[2] ?? 0] })}`,
    );
    process.stdout.write(`${['       pfn  entry', ...lines].join('\n')}\n`);
  });

cli
  .command(
    'demo',
    "Run the review's story (examples/demo.json) with the reviewed ABI and with RFC v4, side by side",
  )
  .option('--trace-out <file>', 'where to write the Perfetto trace of both runs', {
    default: 'snp-ref-out/demo.trace.json',
  })
  .action(async (options: { traceOut: string }) => {
    const scenario = await loadScenario(fileURLToPath(new URL('../examples/demo.json', import.meta.url)));
    const { runScenario } = await scenarioModules();
    const out = dirname(options.traceOut);
    mkdirSync(out, { recursive: true });
    const events: ReturnType<TraceRing['events']> = [];
    const maps: string[] = [];
    for (const abi of ['reviewed', 'v4'] as const) {
      const ring = new TraceRing(1 << 20);
      const result = runScenario({ ...scenario, kvm: { ...scenario.kvm, abi } }, ring);
      events.push(...ring.events().map((e) => ({ ...e, by: `${abi}:${e.by}` })));
      const map = join(out, `demo-${abi}.rmp.svg`);
      writeFileSync(map, rmpSvg(scenario.host.pages, result.rmp));
      maps.push(map);
      process.stdout.write(`\n== KVM ABI: ${abi}\n${formatResultText(result, scenario)}`);
    }
    writeFileSync(options.traceOut, `${JSON.stringify(toChromeTrace(events))}\n`);
    process.stdout.write(
      `\nRMP transition trace of both runs: ${options.traceOut} (open it in https://ui.perfetto.dev)\nRMP maps after each run: ${maps.join(', ')}\n`,
    );
  });

cli.help();
cli.version(createRequire(import.meta.url)('../package.json').version as string, '--version');

try {
  cli.parse(process.argv, { run: false });
  if (cli.matchedCommand === undefined && cli.args.length > 0)
    throw new InputError([`unknown command "${cli.args[0]}"; see snp-ref --help`]);
  if (cli.matchedCommand === undefined && !cli.options.help && !cli.options.version) cli.outputHelp();
  else await cli.runMatchedCommand();
} catch (error) {
  if (error instanceof InputError) {
    process.stderr.write(`${error.problems.map((p) => `snp-ref: ${p}`).join('\n')}\n`);
    process.exitCode = EXIT_INVALID;
  } else if (error instanceof Error && error.name === 'CACError') {
    process.stderr.write(`snp-ref: ${error.message}\n`);
    process.exitCode = EXIT_INVALID;
  } else {
    process.stderr.write(
      `snp-ref: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  }
}
