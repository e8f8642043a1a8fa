// `snp-ref run`: a scenario's result as JSON or a step table, and its RMP transition trace.
import { statSync } from 'node:fs';
import { delimiter, dirname, resolve } from 'node:path';
import { formatFtrace, TraceRing, toChromeTrace } from '@snp-ref/rmp-core';
import { defineCommand } from '../commandLine/command.js';
import { CliInputError } from '../commandLine/inputError.js';
import { filesOf } from '../files.js';
import { formatResultText } from '../format/text.js';
import { loadScenario, scenarioModules } from './scenarioInput.js';

const json = (value: unknown) => JSON.stringify(value, null, 2);

export const runCommand = defineCommand({
  name: 'run',
  summary:
    'Run a scenario (format: snp-ref schema; packages/scenario/README.md) and print its result; no file or - reads stdin',
  arguments: [{ name: 'file' }],
  options: [
    { flag: '--format', type: 'string', value: 'format', default: 'json', description: 'json or text' },
    {
      flag: '--allow-read',
      type: 'string',
      value: 'dirs',
      joinRepeated: delimiter,
      description: `let an mmap fill read files under these directories too (${delimiter}-separated like PATH, or the flag given again); by default only under the scenario's own`,
    },
    {
      flag: '--trace',
      type: 'string',
      value: 'kind',
      description: 'also write the RMP transition trace: ftrace or perfetto',
    },
    {
      flag: '--trace-out',
      type: 'string',
      value: 'file',
      description: 'where --trace writes (default: stdout after the result)',
    },
  ],
  action: async ({ args, options }, io) => {
    const { format, trace, traceOut, allowRead } = options;
    if (format !== 'json' && format !== 'text')
      throw new CliInputError('USAGE', `--format: expected json or text, got ${format}`);
    if (trace !== undefined && trace !== 'ftrace' && trace !== 'perfetto')
      throw new CliInputError('USAGE', `--trace: expected ftrace or perfetto, got ${trace}`);
    const files = filesOf(io);
    const ring = new TraceRing(1 << 20);
    const file = args.file ?? '-';
    const scenario = await loadScenario(files, file);
    const { runScenario, scenarioFilesIn } = await scenarioModules();
    // An `mmap` filled from a file names it relative to the scenario, which may read files in its
    // own directory; one from stdin or a pipe (/dev/stdin) has none: relative to the working
    // directory, and only where --allow-read allows.
    const path = resolve(io.cwd, file);
    const ownDirectory = file !== '-' && statSync(path).isFile();
    const allowed = (allowRead ?? '').split(delimiter).filter((d) => d !== '');
    const readable = scenarioFilesIn(
      ownDirectory ? dirname(path) : io.cwd,
      allowed.map((d) => resolve(io.cwd, d)),
      ownDirectory,
    );
    const result = runScenario(scenario, ring, undefined, readable);
    io.stdout(format === 'json' ? `${json(result)}\n` : formatResultText(result, scenario));
    if (trace === undefined) return;
    const text = trace === 'ftrace' ? formatFtrace(ring.events()) : `${json(toChromeTrace(ring.events()))}\n`;
    if (traceOut === undefined) io.stdout(text);
    else files.writeText(traceOut, text);
  },
});
