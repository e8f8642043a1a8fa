// snp-ref: run SEV-SNP launch scenarios, measure launch plans, show the RMP.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
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
const scenarioModules = async () => ({
  ...(await import('./scenario/run.js')),
  ...(await import('./scenario/schema.js')),
});

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
    'Compute the launch digest of a plan (../shared/vectors/README.md format, plus file ops)',
  )
  .option('--plan [file]', 'the plan (JSON); - or no file reads stdin')
  .option('--json', 'print the digest and the digest after each op as JSON')
  .option('--parallel', 'hash NORMAL file pages on all cores (same digest)')
  .action(async (options: { plan?: string | boolean; json?: boolean; parallel?: boolean }) => {
    if (options.plan === undefined) throw new InputError(['--plan: a plan file is required (- for stdin)']);
    const file = typeof options.plan === 'string' ? options.plan : '-';
    const hasher = options.parallel === true ? await ParallelPageHasher.create() : undefined;
    const progress = process.stderr.isTTY ? progressReporter('measuring') : undefined;
    let measured: PlanMeasurement;
    let name: string;
    try {
      const plan = parseLaunchPlan(readJson(file));
      name = plan.name;
      const baseDir = file === '-' ? process.cwd() : dirname(file);
      measured = await measurePlanWithFiles(plan, {
        baseDir,
        ...(hasher && { hasher }),
        ...(progress && { onProgress: progress }),
      });
    } catch (error) {
      if (error instanceof PlanError) throw new InputError([`${file}: ${error.message}`]);
      throw error;
    } finally {
      progress?.(0, 0);
      await hasher?.close();
    }
    if (options.json !== true) {
      process.stdout.write(`${measured.digest}\n`);
      return;
    }
    const steps = measured.steps.map((s) => ({
      op: s.op.op,
      gpa: hex(s.op.gpa),
      pages: s.op.pages,
      digest: s.digest,
    }));
    process.stdout.write(`${JSON.stringify({ name, digest: measured.digest, steps }, null, 2)}\n`);
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
cli.version(createRequire(import.meta.url)('../package.json').version as string);

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
