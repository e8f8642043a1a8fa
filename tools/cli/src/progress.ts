import type { CliIo } from './commandLine/io.js';

/**
 * A one-line progress report for long runs, written to stderr through `write` and redrawn at most
 * ten times a second; call it with (0, 0) to clear the line. Only for a TTY: the caller skips it
 * otherwise, so logs stay clean.
 */
export function progressReporter(
  label: string,
  write: (text: string) => void,
  now: () => number = () => performance.now(),
): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    if (total === 0) {
      write('\r\x1b[2K');
      return;
    }
    const t = now();
    if (t - last < 100 && done < total) return;
    last = t;
    write(`\r\x1b[2K${label}: ${done}/${total} pages (${((100 * done) / total).toFixed(0)} %)`);
  };
}

/** The progress report on `io`'s stderr, or none when that is not a terminal. */
export const progressOn = (io: CliIo, label: string) =>
  io.stderrIsTTY ? progressReporter(label, io.stderr) : undefined;
