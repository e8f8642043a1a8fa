/**
 * A one-line progress report on stderr for long runs, redrawn at most ten times a second; call it
 * with (0, 0) to clear the line. Only for a TTY: the caller skips it otherwise, so logs stay clean.
 */
export function progressReporter(
  label: string,
  now: () => number = () => performance.now(),
): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    if (total === 0) {
      process.stderr.write('\r\x1b[2K');
      return;
    }
    const t = now();
    if (t - last < 100 && done < total) return;
    last = t;
    process.stderr.write(
      `\r\x1b[2K${label}: ${done}/${total} pages (${((100 * done) / total).toFixed(0)} %)`,
    );
  };
}
