import { closeSync, constants, existsSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
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

/** The real path of an open file: Linux names it in /proc, so no link swapped in after the open can fool the check. */
const openedPath = (fd: number, path: string) =>
  existsSync('/proc/self/fd') ? realpathSync(`/proc/self/fd/${fd}`) : realpathSync(path);

/**
 * The files of a scenario in `dir` (the scenario file's directory): a relative path is resolved
 * there. A scenario may come from anyone, so it reads only files inside `dir` (unless
 * `ownDirectory` is false: a scenario read from stdin has none), or inside one of the directories
 * in `allowed` (the user's choice), symbolic links followed: it cannot copy, say, ~/.ssh into guest
 * memory and print it with hv.read. Only regular files are read, opened without blocking (a FIFO or
 * a terminal would wait forever), at the offsets asked.
 */
export function scenarioFilesIn(
  dir: string,
  allowed: readonly string[] = [],
  ownDirectory = true,
): ScenarioFiles {
  let roots: string[] | undefined;
  const rootsNow = () =>
    (roots ??= [...(ownDirectory ? [dir] : []), ...allowed].flatMap((root) => {
      try {
        return [realpathSync(root)];
      } catch {
        return []; // a directory that does not exist allows nothing
      }
    }));
  return {
    open(path) {
      const full = resolve(dir, path);
      const where = ownDirectory ? "the scenario's directory" : 'the directories allowed';
      const outside = new Error(
        `${path} is outside ${where}${ownDirectory && allowed.length > 0 ? ' and the directories allowed' : ''}: a scenario reads only files there`,
      );
      const isInside = (real: string) => rootsNow().some((root) => inside(real, root));
      let fd: number;
      try {
        // Checked before the open (opening a device can act), and again on what was opened.
        if (!isInside(realpathSync(full))) throw outside;
        fd = openSync(full, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
      } catch (error) {
        if (error === outside) throw error;
        throw new Error(`cannot open ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      if (!isInside(openedPath(fd, full))) {
        closeSync(fd);
        throw outside;
      }
      if (!fstatSync(fd).isFile()) {
        closeSync(fd);
        throw new Error(`${path} is not a regular file`);
      }
      return {
        read(offset, length) {
          const bytes = new Uint8Array(length);
          let done = 0;
          // Past 2^53 a position means nothing to readSync: the file has ended long before.
          for (let n = -1; done < length && n !== 0 && offset + length <= Number.MAX_SAFE_INTEGER; done += n)
            n = readSync(fd, bytes, done, length - done, offset + done);
          return bytes.subarray(0, done);
        },
        close: () => closeSync(fd),
      };
    },
  };
}
