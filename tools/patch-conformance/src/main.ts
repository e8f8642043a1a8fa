// snp-conform: checks the TypeScript model against the annotated C patches (patches/README.md).
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { type ConformReport, conform } from './conform.js';
import { formatJunit, formatSarif, formatText } from './formats.js';
import { ConformInputError } from './input.js';

const USAGE = `usage: snp-conform [--format text|json|junit|sarif] [--root DIR] [--static-only] PATCH...
Checks each annotated patch against the TypeScript model in DIR (default: the current directory):
the static rules, then (unless --static-only) the patch's C compiled against user-space shims and
run on the shared scenarios beside the model, their traces compared.
Exit 0: no finding; 1: a rule failed; 2: bad input.`;

const FORMATS = {
  text: (reports: readonly ConformReport[]) => `${formatText(reports)}\n`,
  json: (reports: readonly ConformReport[]) => `${JSON.stringify(reports, null, 2)}\n`,
  junit: formatJunit,
  sarif: (reports: readonly ConformReport[]) =>
    formatSarif(reports, createRequire(import.meta.url)('../package.json').version as string),
};

async function main(args: readonly string[]): Promise<number> {
  let format = 'text';
  let root = process.cwd();
  let dynamic = true;
  const patches: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (arg === '--format') format = args[++i] ?? '';
    else if (arg === '--root') root = resolve(args[++i] ?? '.');
    else if (arg === '--static-only') dynamic = false;
    else if (arg.startsWith('-')) throw new ConformInputError(`unknown option ${arg}\n${USAGE}`);
    else patches.push(arg);
  }
  if (!Object.hasOwn(FORMATS, format))
    throw new ConformInputError(`--format: expected text, json, junit or sarif, got ${format}`);
  if (patches.length === 0) throw new ConformInputError(USAGE);
  const reports: ConformReport[] = [];
  for (const patch of patches) reports.push(await conform(root, resolve(patch), undefined, { dynamic }));
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
