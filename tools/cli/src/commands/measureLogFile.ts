// The --log of `snp-ref measure`: every measured page, to a file or stdout.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { MeasuredPage } from '@snp-ref/psp-firmware/measure';
import { CliInputError } from '../commandLine/inputError.js';
import type { CliIo } from '../commandLine/io.js';
import { errnoCode, type Files } from '../files.js';
import { LOG_TABLE_HEADER, logStep, logTableRow } from '../measureLog.js';

function openForWriting(files: Files, file: string): { write: (text: string) => void; close: () => void } {
  let fd: number;
  try {
    fd = openSync(files.path(file), 'w');
  } catch (error) {
    throw new CliInputError('INPUT', `--log: cannot write ${file} (${errnoCode(error)})`);
  }
  return { write: (text) => writeSync(fd, text), close: () => closeSync(fd) };
}

/** A measurement log being written ("-": stdout): JSON lines or table rows, in blocks so a long log streams. */
export function openLog(io: CliIo, files: Files, file: string, format: string) {
  if (format !== 'json' && format !== 'table')
    throw new CliInputError('USAGE', `--format: expected json or table, got ${format}`);
  const out = file === '-' ? { write: io.stdout, close: () => {} } : openForWriting(files, file);
  const lines: string[] = format === 'table' ? [LOG_TABLE_HEADER] : [];
  const flush = () => {
    if (lines.length > 0) out.write(`${lines.join('\n')}\n`);
    lines.length = 0;
  };
  let index = 0;
  return {
    onPage: (page: MeasuredPage, op: number) => {
      const step = logStep(index++, page, op);
      lines.push(format === 'json' ? JSON.stringify(step) : logTableRow(step));
      if (lines.length >= 4096) flush();
    },
    close: () => {
      flush();
      out.close();
    },
  };
}
