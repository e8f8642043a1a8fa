/**
 * What snp-ref refuses as the user's mistake: USAGE, the command line (an unknown command or
 * option, a flag or argument missing or malformed); INPUT, what it names (a file that cannot be
 * read or written, a scenario, plan, log, trace or image that does not follow its format).
 */
export type CliInputErrorCode = 'USAGE' | 'INPUT';

/** A mistake of the user's: exit 2 and one `snp-ref: <problem>` line per problem, no stack trace. */
export class CliInputError extends Error {
  override readonly name: string = 'CliInputError';
  readonly problems: readonly string[];
  constructor(
    readonly code: CliInputErrorCode,
    problems: string | readonly string[],
  ) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.join('\n'));
    this.problems = list;
  }
}
