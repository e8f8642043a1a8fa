// A command as data: its name, arguments and options, and the action that runs it. The generic
// layer (run.ts) registers these with cac, renders --help from them and hands the action its values.
import type { CliIo } from './io.js';

/** A positional argument: `<name>` when required, `[name]` when not, `[...name]` for the rest. */
export interface ArgumentSpec {
  readonly name: string;
  readonly required?: true;
  readonly variadic?: true;
}

/** An option. Values reach the action exactly as typed: "0x16", "-22" and "007" stay text. */
export type OptionSpec = {
  /** The long flag; the action reads it camel-cased (--trace-out: traceOut). */
  readonly flag: `--${string}`;
  /** A one-letter alias, such as -v. */
  readonly alias?: `-${string}`;
  readonly description: string;
} & (
  | { readonly type: 'boolean' }
  | {
      /** string: a value must follow; optional-string: it may be left out, and the option is then `true`. */
      readonly type: 'string' | 'optional-string';
      /** What --help calls the value (--trace-out <file>). */
      readonly value: string;
      readonly default?: string;
      /**
       * A list: given more than once, the values are joined with this separator (--allow-read a
       * --allow-read b reads as a:b), where other options keep the last value given.
       */
      readonly joinRepeated?: string;
    }
);

type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;
type OptionKey<O extends OptionSpec> = CamelCase<O['flag'] extends `--${infer Name}` ? Name : never>;
type OptionValue<O extends OptionSpec> = O extends { readonly type: 'boolean' }
  ? boolean
  :
      | (O extends { readonly type: 'optional-string' } ? true : never)
      | (O extends { readonly default: string } ? string : string | undefined);
type ArgumentValue<A extends ArgumentSpec> = A extends { readonly variadic: true }
  ? readonly string[]
  : A extends { readonly required: true }
    ? string
    : string | undefined;

/** What an action is given: the arguments by name and the options by camel-cased flag. */
export interface CommandInput<O extends readonly OptionSpec[], A extends readonly ArgumentSpec[]> {
  readonly args: { readonly [S in A[number] as S['name']]: ArgumentValue<S> };
  readonly options: { readonly [S in O[number] as OptionKey<S>]: OptionValue<S> };
}

/** The same input as the generic layer builds it, from any command's descriptor. */
export interface RawInput {
  readonly args: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
}

/** Runs the command; resolves to the exit code, or to nothing for 0. */
export type Action<I> = ((input: I, io: CliIo) => Promise<void>) | ((input: I, io: CliIo) => Promise<number>);

/** A command as the generic layer runs it. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly arguments: readonly ArgumentSpec[];
  readonly options: readonly OptionSpec[];
  readonly action: (input: RawInput, io: CliIo) => Promise<number>;
}

/**
 * A command as the program lists it: its name, and its module to load. Only the command that runs
 * is loaded (the bundle holds a chunk per command), so a short command does not start by compiling
 * and initialising all the others.
 */
export interface CommandEntry {
  readonly name: string;
  readonly load: () => Promise<Command>;
}

/** A command-line program: its name, version and commands, in the order --help lists them. */
export interface Program {
  readonly name: string;
  /** Looked up only for --help and --version. */
  readonly version: () => Promise<string>;
  readonly commands: readonly CommandEntry[];
}

/** The key an option's value has in the input: --trace-out is traceOut. */
export const optionKey = (flag: string): string =>
  flag.replace(/^--/, '').replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/**
 * A command whose action sees its own arguments and options by name and type. The generic layer
 * builds the input from this same descriptor, so it has exactly those keys and kinds of value.
 */
export function defineCommand<const O extends readonly OptionSpec[], const A extends readonly ArgumentSpec[]>(
  command: Omit<Command, 'arguments' | 'options' | 'action'> & {
    readonly arguments: A;
    readonly options: O;
    readonly action: Action<CommandInput<O, A>>;
  },
): Command {
  return {
    ...command,
    action: async (input, io) => {
      const code = await command.action(input as CommandInput<O, A>, io);
      return typeof code === 'number' ? code : 0;
    },
  };
}
