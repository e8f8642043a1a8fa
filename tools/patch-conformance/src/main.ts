// snp-conform: checks the TypeScript model against the annotated C patches (patches/README.md).
import { resolve } from 'node:path';
import { type ConformReport, conform } from './conform.js';
import { ConformInputError } from './input.js';
import { RULES } from './rules/rules.js';

const USAGE = `usage: snp-conform [--format text|json] [--root DIR] PATCH...
Checks each annotated patch against the TypeScript model in DIR (default: the current directory).
Exit 0: no finding; 1: a rule failed; 2: bad input.`;

function text(report: ConformReport): string {
  const head = `${report.patch} (${report.flavour}): ${report.paired.length} annotations paired, ${report.findings.length} finding(s)`;
  const lines = report.findings.map((f) => {
    const where = [f.c && `C ${f.c.file}:${f.c.line}`, f.ts && `TS ${f.ts.file}:${f.ts.line}`]
      .filter(Boolean)
      .join('  ');
    const rationale = RULES.find((r) => r.id === f.rule)?.rationale ?? '';
    return `  ${f.rule}: ${f.message}\n    at ${where}\n    why: ${rationale}`;
  });
  return [head, ...lines].join('\n');
}

const args = process.argv.slice(2);
try {
  let format = 'text';
  let root = process.cwd();
  const patches: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (arg === '--format') format = args[++i] ?? '';
    else if (arg === '--root') root = resolve(args[++i] ?? '.');
    else if (arg.startsWith('-')) throw new ConformInputError(`unknown option ${arg}\n${USAGE}`);
    else patches.push(arg);
  }
  if (format !== 'text' && format !== 'json')
    throw new ConformInputError(`--format: expected text or json, got ${format}`);
  if (patches.length === 0) throw new ConformInputError(USAGE);
  const reports: ConformReport[] = [];
  for (const patch of patches) reports.push(await conform(root, resolve(patch)));
  process.stdout.write(
    format === 'json' ? `${JSON.stringify(reports, null, 2)}\n` : `${reports.map(text).join('\n\n')}\n`,
  );
  process.exitCode = reports.some((r) => r.findings.length > 0) ? 1 : 0;
} catch (error) {
  if (!(error instanceof ConformInputError)) throw error;
  process.stderr.write(`snp-conform: ${error.message}\n`);
  process.exitCode = 2;
}
