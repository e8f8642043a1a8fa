// Output written straight to a file descriptor. For a pipe, a file or a terminal this is what
// process.stdout does on POSIX anyway (synchronous writes), without building the stream first:
// creating process.stdout costs a short command ~7 ms of its start-up (net.Socket over a pipe).
import { writeSync } from 'node:fs';

/** Blocks the thread for `ms` milliseconds (no busy loop). */
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Writes all of `text` (UTF-8) to `fd`, however many writes it takes: a pipe may take part of a
 * buffer, and a descriptor its parent left non-blocking answers EAGAIN while the reader is behind
 * (then we wait a millisecond and go on). Any other error (EPIPE: the reader went away) is thrown.
 */
export function writeAll(
  fd: number,
  text: string,
  write: (fd: number, bytes: Uint8Array, at: number, length: number) => number = writeSync,
  wait: (ms: number) => void = sleep,
): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; ) {
    try {
      at += write(fd, bytes, at, bytes.length - at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      wait(1);
    }
  }
}
