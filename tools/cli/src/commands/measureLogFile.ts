// The --log of `snp-ref measure`: every measured page (or SEV region), to a file or stdout.
import { closeSync, openSync, writeSync } from 'node:fs';
import { CliInputError } from '../commandLine/inputError.js';
import type { CliIo } from '../commandLine/io.js';
import { errnoCode, type Files } from '../files.js';
import type { LogView } from '../measureLog.js';

function openForWriting(files: Files, file: string): { write: (text: string) => void; close: () => void } {
  let fd: number;
  try {
    fd = openSync(files.path(file), 'w');
  } catch (error) {
    throw new CliInputError('INPUT', `--log: cannot write ${file} (${errnoCode(error)})`);
  }
  return { write: (text) => writeSync(fd, text), close: () => closeSync(fd) };
}

/**
 * A measurement log being written ("-": stdout): each entry as a JSON line or a row of `view`'s
 * table, in blocks so a long log streams.
 */
export function openLog<T>(io: CliIo, files: Files, file: string, format: string, view: LogView<T>) {
  if (format !== 'json' && format !== 'table')
    throw new CliInputError('USAGE', `--format: expected json or table, got ${format}`);
  const out = file === '-' ? { write: io.stdout, close: () => {} } : openForWriting(files, file);
  const lines: string[] = format === 'table' ? [view.header] : [];
  const flush = () => {
    if (lines.length > 0) out.write(`${lines.join('\n')}\n`);
    lines.length = 0;
  };
  return {
    write: (entry: T) => {
      lines.push(format === 'json' ? JSON.stringify(entry) : view.row(entry));
      if (lines.length >= 4096) flush();
    },
    close: () => {
      flush();
      out.close();
    },
  };
}
