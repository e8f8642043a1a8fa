// The snp-ref process (bin/snp-ref.js starts it): its arguments and streams to run(), the exit code back.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { writeAll } from './commandLine/fdWrite.js';
import { run } from './main.js';

/**
 * The status when the reader of stdout went away (`snp-ref run … | head`): 128 + SIGPIPE (13), what a
 * shell reports for `seq 1e9 | head` or `cat big | head`, whose writers SIGPIPE kills. Node ignores
 * SIGPIPE and the write fails with EPIPE instead; snp-ref then stops at once, printing nothing.
 */
const EXIT_STDOUT_CLOSED = 141;

const stdout = (text: string) => {
  try {
    writeAll(1, text);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
    process.exit(EXIT_STDOUT_CLOSED);
  }
};

/** node:tty loads node:net and its streams (~5 ms): only a command that asks (progress) pays for it. */
const stderrIsTerminal = (): boolean =>
  (createRequire(import.meta.url)('node:tty') as typeof import('node:tty')).isatty(2);

process.exitCode = await run(process.argv.slice(2), {
  stdout,
  stderr: (text) => writeAll(2, text),
  readStdin: () => readFileSync(0, 'utf8'),
  readStdinBytes: () => readFileSync(0),
  cwd: process.cwd(),
  get stderrIsTTY() {
    return stderrIsTerminal();
  },
});
