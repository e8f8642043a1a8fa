// The snp-ref process (bin/snp-ref.js starts it): its arguments and streams to run(), the exit code back.
import { readFileSync } from 'node:fs';
import { run } from './main.js';

process.exitCode = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: () => readFileSync(0, 'utf8'),
  cwd: process.cwd(),
  stderrIsTTY: process.stderr.isTTY,
});
