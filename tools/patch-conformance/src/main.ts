// snp-conform: checks the TypeScript model against annotated C patches (patches/README.md) and
// patches as posted (format-patch series, mbox files).
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  FLAVOURS,
  type Flavour,
  isAnnotated,
  isFlavour,
  type Patch,
  type PatchInput,
  parsePatch,
  readInputs,
  readPatch,
} from './c/patch.js';
import { type ConformOptions, type ConformReport, conform, modelEntities } from './conform.js';
import { formatJunit, formatSarif, formatSummary, formatText } from './formats.js';
import { ConformInputError } from './input.js';
import { modelRoot } from './modelRoot.js';
import { parseMapFile } from './pairing/mapFile.js';

const USAGE = `usage: snp-conform [--format text|summary|json|junit|sarif] [--root DIR] [--static-only]
                   [--flavour reviewed|v4|upstream] [--map FILE] [PATCH... | DIR | MBOX | -]
Checks patches against the TypeScript model in DIR (default: the current directory if it is an
snp-ref checkout, else the copy of the model packed with snp-conform): the static rules, then
(unless --static-only) the patch's C compiled against user-space shims, sandboxed, and run on the
shared scenarios beside the model, their traces compared.
Input: annotated patches (first line "snp-ref-flavour: …"; each checked alone; default: every
DIR/patches/*.patch), or a series as posted: git format-patch files, a directory of them, an mbox,
a plain diff, - for stdin; all of them together are one series, applied in order.
A posted series is paired with the model by the kernel's names for its functions; --map FILE
pairs others ("<entity> <name>" per line), --flavour says which flow it is (else inferred from
its uAPI struct).
Exit 0: no finding; 1: a rule failed; 2: bad input.`;

const VERSION = createRequire(import.meta.url)('../package.json').version as string;

const FORMATS = {
  text: (reports: readonly ConformReport[]) => `${formatText(reports)}\n`,
  summary: (reports: readonly ConformReport[]) => `${formatSummary(reports)}\n`,
  json: (reports: readonly ConformReport[]) => `${JSON.stringify(reports, null, 2)}\n`,
  junit: formatJunit,
  sarif: (reports: readonly ConformReport[]) => formatSarif(reports, VERSION),
};

function options(args: readonly string[]) {
  try {
    return parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'text' },
        root: { type: 'string' },
        'static-only': { type: 'boolean', default: false },
        flavour: { type: 'string' },
        map: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new ConformInputError(`${(error as Error).message}\n${USAGE}`);
  }
}

/** Every DIR/patches/*.patch, each checked alone, when no input is named. */
function repositoryPatches(root: string): string[] {
  const dir = join(root, 'patches');
  let found: string[] = [];
  try {
    found = readdirSync(dir).filter((f) => f.endsWith('.patch'));
  } catch {
    // No patches directory: reported below like an empty one.
  }
  if (found.length === 0) throw new ConformInputError(`no PATCH given and no ${dir}/*.patch\n${USAGE}`);
  return found.sort().map((f) => join(dir, f));
}

/**
 * What to check: each annotated patch alone, and everything else named as one series (named by
 * the arguments it came from).
 */
function patches(root: string, named: readonly string[]): Patch[] {
  // Below the working directory relative to it, elsewhere as given.
  const display = (path: string) => {
    if (path === '-') return '<stdin>';
    const below = relative(process.cwd(), resolve(path));
    return below.startsWith('..') || isAbsolute(below) ? path : below;
  };
  if (named.length === 0) return repositoryPatches(root).map((p) => readPatch(p, display(p)));
  const alone: Patch[] = [];
  const series: { arg: string; inputs: PatchInput[] }[] = [];
  for (const arg of named) {
    const inputs = readInputs([arg], display);
    for (const input of inputs.filter((i) => isAnnotated(i.text)))
      alone.push(parsePatch([input], input.name));
    const posted = inputs.filter((i) => !isAnnotated(i.text));
    if (posted.length > 0) series.push({ arg: display(arg), inputs: posted });
  }
  if (series.length === 0) return alone;
  return [
    ...alone,
    parsePatch(
      series.flatMap((s) => s.inputs),
      series.map((s) => s.arg).join(', '),
    ),
  ];
}

function flavourOption(value: string | undefined): Flavour | undefined {
  if (value === undefined || isFlavour(value)) return value;
  throw new ConformInputError(`--flavour: expected ${FLAVOURS.join(', ')}, got ${value}`);
}

function mapOption(root: string, file: string | undefined): ConformOptions['map'] {
  if (file === undefined) return undefined;
  const [input] = readInputs([file], (p) => p);
  return { file, entries: parseMapFile(input?.text ?? '', file, modelEntities(root)) };
}

async function main(args: readonly string[]): Promise<number> {
  const { values, positionals } = options(args);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`snp-conform ${VERSION}\n`);
    return 0;
  }
  const format = values.format;
  if (!Object.hasOwn(FORMATS, format))
    throw new ConformInputError(`--format: expected text, summary, json, junit or sarif, got ${format}`);
  const root = modelRoot(values.root);
  const flavour = flavourOption(values.flavour);
  const map = mapOption(root, values.map);
  const reports: ConformReport[] = [];
  for (const patch of patches(root, positionals))
    reports.push(
      await conform(root, patch, undefined, {
        dynamic: !values['static-only'],
        ...(flavour === undefined ? {} : { flavour }),
        ...(map === undefined ? {} : { map }),
      }),
    );
  process.stdout.write(FORMATS[format as keyof typeof FORMATS](reports));
  return reports.some((r) => r.findings.length > 0) ? 1 : 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof ConformInputError)) throw error;
  process.stderr.write(`snp-conform: ${error.message}\n`);
  process.exitCode = 2;
}
