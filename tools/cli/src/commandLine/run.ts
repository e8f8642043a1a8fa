// A program's command line to its exit code. The command is found by name, loaded (only --help
// loads them all, to list them), and its tokens split as typed (split.ts); cac, with its descriptor
// registered, words what is wrong with the options; the action runs with the values as typed.
// Errors are told apart here, once: the user's exit 2, anything else 1.
import { FirmwareInputError } from '@snp-ref/psp-firmware/measure';
import { type Command, optionKey, type Program, type RawInput } from './command.js';
import {
  commandHelp,
  commandUsage,
  HELP_OPTION,
  optionUsage,
  programHelp,
  VERSION_OPTION,
  versionText,
} from './help.js';
import { CliInputError } from './inputError.js';
import type { CliIo } from './io.js';
import { isOptionToken, type SplitCommandLine, splitCommandLine } from './split.js';

/** Exit codes: 0 ran, 2 the input is not valid, 1 internal error. */
const EXIT_INTERNAL = 1;
const EXIT_INVALID = 2;

/** Runs the command `argv` names (the arguments after the program's own name); resolves to the exit code. */
export async function runProgram(program: Program, argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(program, argv, io);
  } catch (error) {
    const input = asInputError(error);
    if (input !== undefined) {
      io.stderr(input.problems.map((p) => `${program.name}: ${p}\n`).join(''));
      return EXIT_INVALID;
    }
    io.stderr(
      `${program.name}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return EXIT_INTERNAL;
  }
}

/** The error as the user's mistake, or undefined for a bug. */
function asInputError(error: unknown): CliInputError | undefined {
  if (error instanceof CliInputError) return error;
  // The packages' own coded input errors: a plan, an image, options they cannot use.
  if (error instanceof FirmwareInputError) return new CliInputError('INPUT', error.message);
  // cac does not export its error class.
  if (error instanceof Error && error.name === 'CACError') return new CliInputError('USAGE', error.message);
  return undefined;
}

async function dispatch(program: Program, argv: readonly string[], io: CliIo): Promise<number> {
  const at = argv.findIndex((token) => !isOptionToken(token));
  const name = argv[at];
  const entry = program.commands.find((c) => c.name === name);
  if (name !== undefined && entry === undefined)
    throw new CliInputError('USAGE', `unknown command "${name}"; see ${program.name} --help`);
  const command = await entry?.load();
  const rest = at < 0 ? argv : [...argv.slice(0, at), ...argv.slice(at + 1)];
  const split = splitCommandLine(rest, [...(command?.options ?? []), HELP_OPTION, VERSION_OPTION]);
  if (command === undefined || split.given.has(HELP_OPTION.flag)) {
    io.stdout(await helpOrVersion(program, command, split));
    return 0;
  }
  await check(program, command, split);
  return command.action(inputOf(command, split), io);
}

/** The command's help, the version, or the program's help (also for its bare name). */
async function helpOrVersion(
  program: Program,
  command: Command | undefined,
  split: SplitCommandLine,
): Promise<string> {
  const heading = { name: program.name, version: await program.version() };
  if (command !== undefined) return commandHelp(heading, command);
  if (split.given.has(VERSION_OPTION.flag) && !split.given.has(HELP_OPTION.flag)) return versionText(heading);
  return programHelp(heading, await Promise.all(program.commands.map((c) => c.load())));
}

/**
 * cac's checks, on the options only: no unknown option, and each that needs a value has one. A line
 * whose every option the split found, each with its value, passes them: cac is loaded only to word
 * the error of one that does not.
 */
async function check(program: Program, command: Command, split: SplitCommandLine): Promise<void> {
  const bare = command.options.find((o) => o.type === 'string' && split.given.get(o.flag) === true);
  if (split.unknownOption || bare !== undefined) {
    const { cac } = await import('cac');
    const cli = cac(program.name);
    for (const option of [HELP_OPTION, VERSION_OPTION]) cli.option(optionUsage(option), option.description);
    const registered = cli.command(commandUsage(command), command.summary);
    for (const option of command.options) registered.option(optionUsage(option), option.description);
    cli.parse(['node', program.name, command.name, ...split.optionTokens], { run: false });
    cli.matchedCommand?.checkUnknownOptions();
    cli.matchedCommand?.checkOptionValue();
    // cac misses a value left out of an option given twice (its parser makes an array of the two).
    if (bare !== undefined)
      throw new CliInputError('USAGE', `option \`${optionUsage(bare)}\` value is missing`);
  }
  // The arguments are counted here: cac is not given them, as it would misread "-" and "-22".
  if (split.positionals.length < command.arguments.filter((a) => a.required).length)
    throw new CliInputError('USAGE', `missing required args for command \`${commandUsage(command)}\``);
}

function inputOf(command: Command, split: SplitCommandLine): RawInput {
  return {
    args: Object.fromEntries(
      command.arguments.map((a, i) => [
        a.name,
        a.variadic ? split.positionals.slice(i) : split.positionals[i],
      ]),
    ),
    options: Object.fromEntries(
      command.options.map((o) => [
        optionKey(o.flag),
        split.given.get(o.flag) ?? (o.type === 'boolean' ? false : o.default),
      ]),
    ),
  };
}
