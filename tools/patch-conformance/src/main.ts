// snp-conform: checks the TypeScript model against the annotated C patches (patches/README.md).
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type ConformReport, conform } from './conform.js';
import { formatJunit, formatSarif, formatText } from './formats.js';
import { ConformInputError } from './input.js';

const USAGE = `usage: snp-conform [--format text|json|junit|sarif] [--root DIR] [--static-only] [PATCH... | -]
Checks each annotated patch (default: every DIR/patches/*.patch; - reads one from stdin) against
the TypeScript model in DIR (default: the current directory): the static rules, then (unless
--static-only) the patch's C compiled against user-space shims, sandboxed, and run on the shared
scenarios beside the model, their traces compared.
Exit 0: no finding; 1: a rule failed; 2: bad input.`;

const VERSION = createRequire(import.meta.url)('../package.json').version as string;

const FORMATS = {
  text: (reports: readonly ConformReport[]) => `${formatText(reports)}\n`,
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
        root: { type: 'string', default: '.' },
        'static-only': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new ConformInputError(`${(error as Error).message}\n${USAGE}`);
  }
}

/** The patches to check: those named, or every patches/*.patch of the repository. */
function patchFiles(root: string, named: readonly string[]): string[] {
  if (named.length > 0) return named.map((p) => (p === '-' ? p : resolve(p)));
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
    throw new ConformInputError(`--format: expected text, json, junit or sarif, got ${format}`);
  const root = resolve(values.root);
  const reports: ConformReport[] = [];
  for (const patch of patchFiles(root, positionals))
    reports.push(await conform(root, patch, undefined, { dynamic: !values['static-only'] }));
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
