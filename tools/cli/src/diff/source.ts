// What `snp-ref diff` compares: a launch as a sequence of measured steps, read from any source.
import { CliInputError } from '../commandLine/inputError.js';

/**
 * Where a step was measured: an SNP page at its gpa, or a named region of a SEV or SEV-ES launch
 * (at a gpa, except a VMSA: LAUNCH_UPDATE_VMSA encrypts the vCPU's save area, which has none).
 */
export type Place = { gpa: number; region?: undefined } | { region: string; gpa?: number };

/** One measured page or region. `contents` is absent where the source does not know it (a QEMU trace). */
export type DiffStep = Place & {
  readonly type: string;
  /** The page's SHA-384 (PAGE_INFO CONTENTS) or the region's SHA-256, in hex. */
  readonly contents?: string;
  readonly vmsa?: Readonly<Record<string, string>>;
  /** The page's bytes, kept where the source has them and they are few enough. */
  readonly page?: Uint8Array;
  /** A region's size in bytes. */
  readonly bytes?: number;
  /** A SEV kernel hashes table: the SHA-256 of each entry. */
  readonly hashes?: Readonly<Record<string, string>>;
};

export interface StepSource {
  readonly label: string;
  /** `sev-log`: the regions of a SEV or SEV-ES launch, not a PAGE_INFO chain of pages. */
  readonly kind: 'plan' | 'log' | 'scenario' | 'qemu-trace' | 'sev-log';
  readonly steps: readonly DiffStep[];
  /** The launch digest the steps end at, where the source knows it. */
  readonly digest?: string;
}

/** A file that is none of the kinds diff reads, or one of them malformed; the message names the file and the place. */
export class SourceError extends CliInputError {
  constructor(message: string) {
    super('INPUT', message);
  }
}

/** What a source measures, to count and name it: PAGE_INFO pages, or SEV regions. */
export const unitOf = (s: StepSource) => (s.kind === 'sev-log' ? 'region' : 'page');

/**
 * Refuses to compare an SNP launch with a SEV or SEV-ES one: the one extends a PAGE_INFO chain of
 * typed pages, the other hashes whole regions into one SHA-256, so no step of one is a step of the other.
 */
export function checkComparable(a: StepSource, b: StepSource): void {
  if (unitOf(a) === unitOf(b)) return;
  const what = (s: StepSource) =>
    s.kind === 'sev-log' ? 'regions under one SHA-256' : 'a PAGE_INFO chain of pages';
  throw new SourceError(
    `A (${a.label}) measures ${what(a)}, B (${b.label}) ${what(b)}: diff compares two SNP launches, or two SEV or SEV-ES logs`,
  );
}

/** An object of strings (each matching `value`, if given) whose own keys are among `keys` (if given): a log's vmsa or hashes. */
export const isStringRecord = (v: unknown, value?: RegExp, keys?: readonly string[]) =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.entries(v).every(
    ([k, x]) => (keys === undefined || keys.includes(k)) && typeof x === 'string' && (value?.test(x) ?? true),
  );
