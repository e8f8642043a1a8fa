import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { encodeRmpEntry } from './entry.js';
import { anyEntry } from './test/arbitraries.js';

it("encodes entries exactly as a C compiler lays out Linux's struct rmpentry_raw bitfields", () => {
  const binary = join(mkdtempSync(join(tmpdir(), 'rmp-raw-')), 'rmpentry_raw');
  execFileSync('cc', ['-O1', '-o', binary, join(import.meta.dirname, 'test/rmpentry_raw.c')]);
  const entries = fc.sample(anyEntry, { numRuns: 500, seed: 0x5e5 });
  const input = entries
    .map((e) => {
      const [p1, p2, p3] = e.vmplPerms.map(BigInt) as [bigint, bigint, bigint];
      const hi = (p1 << 8n) | (p2 << 16n) | (p3 << 24n);
      const bits = [e.assigned, e.pageSize === '2M', e.immutable].map(Number);
      return [...bits, e.gpa / 4096, e.asid, Number(e.vmsa), Number(e.validated), hi].join(' ');
    })
    .join('\n');

  const fromC = execFileSync(binary, { input: `${input}\n` })
    .toString()
    .trim()
    .split('\n');

  expect(entries.map((e) => Buffer.from(encodeRmpEntry(e)).toString('hex'))).toEqual(fromC);
});
