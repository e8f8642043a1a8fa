// The files a command reads and writes: paths relative to the working directory it was given, "-"
// for standard input; a file that cannot be read or written is the user's mistake.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliInputError } from './commandLine/inputError.js';
import type { CliIo } from './commandLine/io.js';

export interface Files {
  /** The absolute path of a file named on the command line. */
  readonly path: (file: string) => string;
  readonly readText: (file: string) => string;
  /** The file's bytes, at most `maxBytes` of them; "-" reads standard input. */
  readonly readBytes: (file: string, maxBytes: number) => Uint8Array;
  readonly readJson: (file: string) => unknown;
  readonly writeText: (file: string, data: string | Uint8Array) => void;
}

/** The errno name of a failed file operation (ENOENT, EACCES, …), for the message. */
export const errnoCode = (error: unknown): string =>
  (error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code) || 'error';

export function filesOf(io: CliIo): Files {
  const path = (file: string) => resolve(io.cwd, file);
  const readText = (file: string) => {
    try {
      return file === '-' ? io.readStdin() : readFileSync(path(file), 'utf8');
    } catch (error) {
      throw new CliInputError('INPUT', `${file}: cannot read (${errnoCode(error)})`);
    }
  };
  return {
    path,
    readText,
    readBytes: (file, maxBytes) => {
      let size: number;
      let bytes: Uint8Array | undefined;
      try {
        if (file === '-') bytes = io.readStdinBytes?.() ?? Buffer.from(io.readStdin());
        size = bytes?.length ?? statSync(path(file)).size;
        if (size <= maxBytes) bytes ??= readFileSync(path(file));
      } catch (error) {
        throw new CliInputError('INPUT', `${file}: cannot read (${errnoCode(error)})`);
      }
      if (bytes === undefined || size > maxBytes)
        throw new CliInputError(
          'INPUT',
          `${file}: ${size} bytes, more than the ${maxBytes} this input may have`,
        );
      return bytes;
    },
    readJson: (file) => {
      const text = readText(file);
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new CliInputError(
          'INPUT',
          `${file}: not JSON (${error instanceof Error ? error.message : error})`,
        );
      }
    },
    writeText: (file, data) => {
      try {
        writeFileSync(path(file), data);
      } catch (error) {
        throw new CliInputError('INPUT', `${file}: cannot write (${errnoCode(error)})`);
      }
    },
  };
}
