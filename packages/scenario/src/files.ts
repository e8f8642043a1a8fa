import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';

/** A file a scenario names, open for reading. */
export interface ScenarioFile {
  /** Up to `length` bytes from byte `offset` (fewer at the end of the file). */
  read(offset: number, length: number): Uint8Array;
  /** Releases the file; no read after it. */
  close(): void;
}

/**
 * How a scenario reads the files it names (`mmap` `fill: {file}`): only those, only the bytes the
 * mapping needs. `open` throws an Error whose message says why a file cannot be read.
 */
export interface ScenarioFiles {
  /** Opens `path` (relative to the scenario) for reading. */
  open(path: string): ScenarioFile;
}

/**
 * The files of a scenario in `dir` (the scenario file's directory): a relative path is resolved
 * there. Only regular files are read (no device or FIFO that never ends), at the offsets asked.
 */
export function scenarioFilesIn(dir: string): ScenarioFiles {
  return {
    open(path) {
      const full = resolve(dir, path);
      let fd: number;
      try {
        fd = openSync(full, 'r');
      } catch (error) {
        throw new Error(`cannot open ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      if (!fstatSync(fd).isFile()) {
        closeSync(fd);
        throw new Error(`${path} is not a regular file`);
      }
      return {
        read(offset, length) {
          const bytes = new Uint8Array(length);
          let done = 0;
          for (let n = -1; done < length && n !== 0; done += n)
            n = readSync(fd, bytes, done, length - done, offset + done);
          return bytes.subarray(0, done);
        },
        close: () => closeSync(fd),
      };
    },
  };
}
