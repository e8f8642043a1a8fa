// --help and --version from the descriptors, laid out byte for byte as cac lays them out (cac
// prints its own through console.log, past CliIo).
import type { Command, OptionSpec } from './command.js';

/** What the first line of --help and --version names: the program and its version. */
export interface ProgramHeading {
  readonly name: string;
  readonly version: string;
}

export const HELP_OPTION: OptionSpec = {
  flag: '--help',
  alias: '-h',
  type: 'boolean',
  description: 'Display this message',
};
export const VERSION_OPTION: OptionSpec = {
  flag: '--version',
  type: 'boolean',
  description: 'Display version number',
};

/** "-v, --verbose", "--trace-out <file>", "--plan [file]". */
export function optionUsage(option: OptionSpec): string {
  const alias = option.alias === undefined ? '' : `${option.alias}, `;
  const value =
    option.type === 'boolean' ? '' : option.type === 'string' ? ` <${option.value}>` : ` [${option.value}]`;
  return `${alias}${option.flag}${value}`;
}

/** "diff <a> <b>", "decode [kind] [...value]". */
export function commandUsage(command: Command): string {
  const args = command.arguments.map(({ name, required, variadic }) => {
    const text = `${variadic ? '...' : ''}${name}`;
    return required ? `<${text}>` : `[${text}]`;
  });
  return [command.name, ...args].join(' ');
}

const table = (rows: readonly (readonly [string, string])[]) => {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
};

// cac leaves a space after a description without a default; kept so the output does not change.
const optionsTable = (options: readonly OptionSpec[]) =>
  table(
    options.map((o) => [
      optionUsage(o),
      `${o.description} ${o.type !== 'boolean' && o.default !== undefined ? `(default: ${o.default})` : ''}`,
    ]),
  );

const page = (program: ProgramHeading, ...sections: string[]) =>
  `${[`${program.name}/${program.version}`, ...sections].join('\n\n')}\n`;

/** The program's help: usage, its commands (loaded, in its order), the global options. */
export function programHelp(program: ProgramHeading, commands: readonly Command[]): string {
  const { name } = program;
  return page(
    program,
    `Usage:\n  $ ${name} <command> [options]`,
    `Commands:\n${table(commands.map((c) => [commandUsage(c), c.summary]))}`,
    `For more info, run any command with the \`--help\` flag:\n${commands.map((c) => `  $ ${name} ${c.name} --help`).join('\n')}`,
    `Options:\n${optionsTable([HELP_OPTION, VERSION_OPTION])}`,
  );
}

/** A command's help: its usage and options. */
export function commandHelp(program: ProgramHeading, command: Command): string {
  return page(
    program,
    `Usage:\n  $ ${program.name} ${commandUsage(command)}`,
    `Options:\n${optionsTable([...command.options, HELP_OPTION])}`,
  );
}

export const versionText = ({ name, version }: ProgramHeading): string =>
  `${name}/${version} ${process.platform}-${process.arch} node-${process.version}\n`;
