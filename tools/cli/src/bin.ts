// The snp-ref process (bin/snp-ref.js starts it): its arguments and streams to run(), the exit code back.
import { readFileSync } from 'node:fs';
import { run } from './main.js';

/**
 * The status when the reader of stdout went away (`snp-ref run … | head`): 128 + SIGPIPE (13), what a
 * shell reports for `seq 1e9 | head` or `cat big | head`, whose writers SIGPIPE kills. Node ignores
 * SIGPIPE and reports EPIPE on the stream instead; snp-ref then stops at once, printing nothing.
 */
const EXIT_STDOUT_CLOSED = 141;

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(EXIT_STDOUT_CLOSED);
});

process.exitCode = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: () => readFileSync(0, 'utf8'),
  readStdinBytes: () => readFileSync(0),
  cwd: process.cwd(),
  stderrIsTTY: process.stderr.isTTY,
});
