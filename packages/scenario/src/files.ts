import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

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

/** Whether `path` is directory `root` or lies inside it (both real paths). */
function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * The files of a scenario in `dir` (the scenario file's directory): a relative path is resolved
 * there. A scenario may come from anyone, so it reads only files inside `dir`, or inside one of the
 * directories in `allowed` (the user's choice), symbolic links followed first: it cannot copy, say,
 * ~/.ssh into guest memory and print it with hv.read. Only regular files are read (no device or
 * FIFO that never ends), at the offsets asked.
 */
export function scenarioFilesIn(dir: string, allowed: readonly string[] = []): ScenarioFiles {
  let roots: string[] | undefined;
  return {
    open(path) {
      const full = resolve(dir, path);
      let real: string;
      let fd: number;
      try {
        real = realpathSync(full);
        roots ??= [dir, ...allowed].flatMap((root) => {
          try {
            return [realpathSync(root)];
          } catch {
            return []; // an allowed directory that does not exist allows nothing
          }
        });
        if (!roots.some((root) => inside(real, root)))
          throw new Error(
            `${path} is outside the scenario's directory${allowed.length > 0 ? ' and the directories allowed' : ''}: a scenario reads only files there`,
          );
        fd = openSync(real, 'r');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw code === undefined ? error : new Error(`cannot open ${path}: ${code}`);
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
