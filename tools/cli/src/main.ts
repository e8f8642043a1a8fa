// snp-ref: run SEV-SNP launch scenarios, measure launch plans, show the RMP. The commands, in the
// order --help lists them, each loaded only when it runs; bin.ts runs them as a process.
import type { Program } from './commandLine/command.js';
import type { CliIo } from './commandLine/io.js';
import { runProgram } from './commandLine/run.js';

const SNP_REF: Program = {
  name: 'snp-ref',
  version: async () => (await import('./packageFiles.js')).PACKAGE_VERSION,
  commands: [
    { name: 'run', load: async () => (await import('./commands/run.js')).runCommand },
    { name: 'schema', load: async () => (await import('./commands/schema.js')).schemaCommand },
    { name: 'measure', load: async () => (await import('./commands/measure.js')).measureCommand },
    { name: 'diff', load: async () => (await import('./commands/diff.js')).diffCommand },
    { name: 'fuzz', load: async () => (await import('./commands/fuzz.js')).fuzzCommand },
    { name: 'explain', load: async () => (await import('./commands/explain.js')).explainCommand },
    { name: 'decode', load: async () => (await import('./commands/decode.js')).decodeCommand },
    { name: 'report', load: async () => (await import('./commands/report.js')).reportCommand },
    { name: 'id-block', load: async () => (await import('./commands/idBlock.js')).idBlockCommand },
    { name: 'rmp', load: async () => (await import('./commands/rmp.js')).rmpCommand },
    { name: 'demo', load: async () => (await import('./commands/demo.js')).demoCommand },
  ],
};

/** Runs snp-ref on `argv` (the arguments after `snp-ref`); resolves to the exit code. */
export const run = (argv: readonly string[], io: CliIo): Promise<number> => runProgram(SNP_REF, argv, io);
