import type { CliIo } from './commandLine/io.js';

/** A run shorter than this never draws progress; a drawn line is redrawn at most this often. */
const REDRAW_MS = 100;

/**
 * A one-line progress report for long runs, written through `write` (stderr) when `isTerminal()`
 * says so, so logs stay clean. Nothing is drawn, and the terminal is not asked about (which costs a
 * short command the loading of node:tty), before REDRAW_MS have passed; call it with (0, 0) to
 * clear the line.
 */
export function progressReporter(
  label: string,
  write: (text: string) => void,
  isTerminal: () => boolean,
  // process.hrtime, not the global performance: that loads perf_hooks (ten modules) on first use.
  now: () => number = () => Number(process.hrtime.bigint()) / 1e6,
): (done: number, total: number) => void {
  let last = now();
  let terminal: boolean | undefined;
  let drawn = false;
  return (done, total) => {
    if (total === 0) {
      if (drawn) write('\r\x1b[2K');
      return;
    }
    const t = now();
    // The last report (done = total) is drawn at once, if a line is there to complete.
    if (t - last < REDRAW_MS && !(drawn && done === total)) return;
    last = t;
    terminal ??= isTerminal();
    if (!terminal) return;
    drawn = true;
    write(`\r\x1b[2K${label}: ${done}/${total} pages (${((100 * done) / total).toFixed(0)} %)`);
  };
}

/** The progress report on `io`'s stderr, drawn only when that is a terminal. */
export const progressOn = (io: CliIo, label: string) =>
  progressReporter(label, io.stderr, () => io.stderrIsTTY);
