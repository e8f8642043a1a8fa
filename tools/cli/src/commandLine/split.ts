// The command line read token by token against a command's options, before cac sees it: cac would
// turn "0x16" into 22, "007" into 7, read "-22" as the flags -2 -2 and let a lone "-" swallow the
// token after it. Here every value stays the text that was typed.
import type { OptionSpec } from './command.js';

/** A token that names an option (--name, --name=value, -x); "-", "-22" and "-0x16" are values. */
export const isOptionToken = (token: string): boolean => /^--?[A-Za-z]/.test(token);

export interface SplitCommandLine {
  readonly positionals: readonly string[];
  /** By long flag: the value as typed, or true for a switch or a value left out. */
  readonly given: ReadonlyMap<string, string | true>;
  /**
   * The option tokens alone, each value joined to its flag (--ret=-22) so cac cannot read a value
   * as a flag, and unknown ones as typed, for cac to check.
   */
  readonly optionTokens: readonly string[];
  /** Whether a token names no option of the command (for cac to report). */
  readonly unknownOption: boolean;
}

export function splitCommandLine(
  tokens: readonly string[],
  options: readonly OptionSpec[],
): SplitCommandLine {
  const byName = new Map<string, OptionSpec>();
  for (const option of options) {
    byName.set(option.flag, option);
    if (option.alias !== undefined) byName.set(option.alias, option);
  }
  const positionals: string[] = [];
  const given = new Map<string, string | true>();
  const optionTokens: string[] = [];
  let unknownOption = false;
  const queue = [...tokens];
  for (let token = queue.shift(); token !== undefined; token = queue.shift()) {
    if (token === '--') {
      positionals.push(...queue.splice(0));
      break;
    }
    if (!isOptionToken(token)) {
      positionals.push(token);
      continue;
    }
    const equals = token.indexOf('=');
    const name = equals < 0 ? token : token.slice(0, equals);
    const option = byName.get(name);
    if (option === undefined) {
      optionTokens.push(token);
      unknownOption = true;
      continue;
    }
    const value = takeValue(option, equals < 0 ? undefined : token.slice(equals + 1), queue);
    given.set(option.flag, givenAgain(option, given.get(option.flag), value));
    // cac reads an empty value as a missing one; it only checks, so it is shown a stand-in.
    optionTokens.push(value === true ? name : `${name}=${value === '' ? "''" : value}`);
  }
  return { positionals, given, optionTokens, unknownOption };
}

/** The value of `option`: after its "=", else the next token unless that is an option; else true. */
function takeValue(option: OptionSpec, inline: string | undefined, queue: string[]): string | true {
  if (option.type === 'boolean') return true;
  if (inline !== undefined) return inline;
  const next = queue[0];
  if (next === undefined || isOptionToken(next)) return true;
  queue.shift();
  return next;
}

/**
 * An option's value once it is given (again): a list's values joined, a value left out of any of
 * them still missing (a required one), otherwise the last.
 */
function givenAgain(
  option: OptionSpec,
  before: string | true | undefined,
  value: string | true,
): string | true {
  if (before === undefined || option.type === 'boolean') return value;
  if (option.type === 'string' && (before === true || value === true)) return true;
  return option.joinRepeated !== undefined && typeof before === 'string' && typeof value === 'string'
    ? `${before}${option.joinRepeated}${value}`
    : value;
}
