import { readFileSync } from 'node:fs';
import parseDiff from 'parse-diff';
import { ConformInputError } from '../input.js';

export type Flavour = 'reviewed' | 'v4';

/** The C a patch adds to one file, with the patch line of each of its lines. */
export interface AddedFile {
  readonly path: string;
  readonly code: string;
  /** patchLines[i] is the line in the .patch file of code line i (0-based). */
  readonly patchLines: readonly number[];
}

export interface Patch {
  readonly file: string;
  readonly flavour: Flavour;
  readonly files: readonly AddedFile[];
}

/** Reads an annotated patch from a file, or from stdin for `-` (named `<stdin>`). */
export function readPatch(file: string, display = file): Patch {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new ConformInputError(
      `${display}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  return parsePatch(text, file === '-' ? '<stdin>' : display);
}

/**
 * An annotated patch: its flavour (first line) and the C each file gains (patches/README.md).
 * `display` is how locations name the patch (e.g. relative to the repository).
 */
export function parsePatch(text: string, display: string): Patch {
  const flavour = /^snp-ref-flavour: (reviewed|v4)\s*$/m.exec(text.split('\n')[0] ?? '')?.[1] as
    | Flavour
    | undefined;
  if (flavour === undefined)
    throw new ConformInputError(
      `${display}:1: expected "snp-ref-flavour: reviewed" or "snp-ref-flavour: v4"`,
    );
  const lines = text.split('\n');
  const files = parseDiff(text).map((diff) => {
    const path = (diff.to ?? diff.from ?? '').replace(/^b\//, '');
    const added: string[] = [];
    const patchLines: number[] = [];
    for (const chunk of diff.chunks) {
      // parse-diff gives hunk-relative numbers; locate each hunk header in the text for file lines.
      const header = lines.indexOf(chunk.content) + 1;
      chunk.changes.forEach((change, i) => {
        if (change.type !== 'add') return;
        added.push(change.content.slice(1));
        patchLines.push(header + 1 + i);
      });
    }
    return { path, code: added.join('\n'), patchLines };
  });
  if (files.length === 0) throw new ConformInputError(`${display}: no diff hunks found`);
  return { file: display, flavour, files };
}
