import { readFileSync, statSync } from 'node:fs';
import { ConformInputError, type Location, type PatchRef } from '../input.js';
import { type AppliedSeries, applySeries, type KnownLine, knownRuns } from '../series/apply.js';
import { LIMITS, listInputFiles, readSeries, type Series } from '../series/mail.js';

/** The flows the model has: as the review settled it, as RFC v4 posted it, as Linux 6.11 merged it. */
export type Flavour = 'reviewed' | 'v4' | 'upstream';

export const FLAVOURS: readonly Flavour[] = ['reviewed', 'v4', 'upstream'];

export const isFlavour = (name: string): name is Flavour => (FLAVOURS as readonly string[]).includes(name);

/** One input as read: its name in reports and its text. */
export interface PatchInput {
  readonly name: string;
  readonly text: string;
}

/** A run of C lines the input shows of one file, each line with its place in the input. */
export interface SourceFile {
  readonly path: string;
  readonly code: string;
  /** lines[i] is where code line i (0-based) is in the input. */
  readonly lines: readonly Location[];
}

/** What snp-conform checks: one annotated patch, or a series as posted (files, mbox, directory). */
export interface Patch {
  /** How reports name it. */
  readonly file: string;
  /** Set for our annotated format (patches/README.md): its first line. */
  readonly annotatedFlavour?: Flavour;
  /** The C the input shows of each file once every patch is applied, in runs of known lines. */
  readonly files: readonly SourceFile[];
  /** The messages it was read from, in order, and those left out. */
  readonly series: Series;
  /** Hunks that did not apply to what the earlier patches left. */
  readonly failures: AppliedSeries['failures'];
  /** Each input's lines by its name, to quote. */
  readonly sources: ReadonlyMap<string, readonly string[]>;
}

const FLAVOUR_LINE = /^snp-ref-flavour:(.*)$/;

/** Whether a text is one of our annotated patches (its first line names a flavour). */
export const isAnnotated = (text: string): boolean => FLAVOUR_LINE.test(text.split('\n', 1)[0] ?? '');

/**
 * The inputs named on the command line: files, directories of patch files (sorted, as `git
 * format-patch` numbers them), `-` for stdin (once). `display` turns a path into its report name.
 */
export function readInputs(paths: readonly string[], display: (path: string) => string): PatchInput[] {
  let stdin = false;
  return listInputFiles(paths).map(({ name, path }) => {
    if (path === '-') {
      if (stdin) throw new ConformInputError('- (stdin) can be named once');
      stdin = true;
    }
    const shown = path === '-' ? '<stdin>' : display(name);
    try {
      if (path !== '-' && statSync(path).size > LIMITS.inputChars)
        throw new ConformInputError(`${shown}: larger than ${LIMITS.inputChars / 1024 / 1024} MiB`);
      return { name: shown, text: readFileSync(path === '-' ? 0 : path, 'utf8') };
    } catch (error) {
      if (error instanceof ConformInputError) throw error;
      throw new ConformInputError(
        `${shown}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  });
}

/** Reads one annotated patch from a file, or from stdin for `-`. */
export function readPatch(file: string, display = file): Patch {
  return parsePatch(
    readInputs([file], () => display),
    display,
  );
}

/**
 * The patch the inputs make: one annotated patch (checked alone), or the inputs as one series,
 * applied in order. `display` is how reports name it.
 */
export function parsePatch(inputs: readonly PatchInput[], display: string): Patch {
  const [first] = inputs;
  const annotatedFlavour = inputs.length === 1 && first !== undefined ? flavourLine(first) : undefined;
  const series = readSeries(inputs);
  if (series.messages.length === 0)
    throw new ConformInputError(
      `${display}: no patch found (no diff${series.skipped.length > 0 ? `; left out: ${series.skipped.map((s) => `${s.subject} (${s.why})`).join(', ')}` : ''})`,
    );
  const applied = applySeries(series.messages);
  // An annotated patch is the C it adds (patches/README.md); a posted one, all the series shows.
  const shown = (line: KnownLine) => annotatedFlavour === undefined || line.added;
  const files = [...applied.files.values()].flatMap((file) =>
    knownRuns(file)
      .map((run) => run.lines.filter(shown))
      .filter((lines) => lines.length > 0)
      .map(
        (lines): SourceFile => ({
          path: file.path,
          code: lines.map((l) => l.text).join('\n'),
          lines: lines.map((l) => ({ ...l.at, ...patchOf(l.patch) })),
        }),
      ),
  );
  if (files.length === 0) throw new ConformInputError(`${display}: no diff hunks found`);
  return {
    file: display,
    ...(annotatedFlavour === undefined ? {} : { annotatedFlavour }),
    files,
    series,
    failures: applied.failures,
    sources: new Map(inputs.map((i) => [i.name, i.text.split('\n')])),
  };
}

/** A line's patch, named in locations only when it was posted (has a subject). */
const patchOf = (patch: PatchRef): { patch?: PatchRef } => (patch.subject === undefined ? {} : { patch });

function flavourLine(input: PatchInput): Flavour | undefined {
  const line = FLAVOUR_LINE.exec(input.text.split('\n', 1)[0] ?? '')?.[1]?.trim();
  if (line === undefined) return undefined;
  if (isFlavour(line)) return line;
  throw new ConformInputError(
    `${input.name}:1: expected "snp-ref-flavour: " and one of ${FLAVOURS.join(', ')}`,
  );
}
