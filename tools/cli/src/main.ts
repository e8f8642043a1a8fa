// snp-ref: run SEV-SNP launch scenarios, measure launch plans, show the RMP. The commands, in the
// order --help lists them; bin.ts runs them as a process.
import type { Program } from './commandLine/command.js';
import type { CliIo } from './commandLine/io.js';
import { runProgram } from './commandLine/run.js';
import { decodeCommand } from './commands/decode.js';
import { demoCommand } from './commands/demo.js';
import { diffCommand } from './commands/diff.js';
import { explainCommand } from './commands/explain.js';
import { fuzzCommand } from './commands/fuzz.js';
import { idBlockCommand } from './commands/idBlock.js';
import { measureCommand } from './commands/measure.js';
import { reportCommand } from './commands/report.js';
import { rmpCommand } from './commands/rmp.js';
import { runCommand } from './commands/run.js';
import { schemaCommand } from './commands/schema.js';
import { PACKAGE_VERSION } from './packageFiles.js';

const SNP_REF: Program = {
  name: 'snp-ref',
  version: PACKAGE_VERSION,
  commands: [
    runCommand,
    schemaCommand,
    measureCommand,
    diffCommand,
    fuzzCommand,
    explainCommand,
    decodeCommand,
    reportCommand,
    idBlockCommand,
    rmpCommand,
    demoCommand,
  ],
};

/** Runs snp-ref on `argv` (the arguments after `snp-ref`); resolves to the exit code. */
export const run = (argv: readonly string[], io: CliIo): Promise<number> => runProgram(SNP_REF, argv, io);
