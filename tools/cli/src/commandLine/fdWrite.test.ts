import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeAll } from './fdWrite.js';

const errno = (code: string) => Object.assign(new Error(code), { code });

describe('writeAll', () => {
  it('delivers every byte in order whatever each write takes, waiting out EAGAIN', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        // Each write takes 1–64 bytes or answers EAGAIN (-1); the last always takes some.
        fc.array(fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constant(-1))),
        fc.integer({ min: 1, max: 64 }),
        (text, attempts, last) => {
          const takes = [...attempts, last];
          const out: number[] = [];
          let call = 0;
          let waits = 0;
          let eagains = 0;
          writeAll(
            1,
            text,
            (_fd, bytes, at, length) => {
              const take = takes[call++ % takes.length] as number;
              if (take < 0) {
                eagains++;
                throw errno('EAGAIN');
              }
              const n = Math.min(take, length);
              out.push(...bytes.subarray(at, at + n));
              return n;
            },
            () => waits++,
          );
          expect(Buffer.from(out).toString('utf8')).toBe(text);
          expect(waits).toBe(eagains);
        },
      ),
      { seed: 20261130 },
    );
  });

  it('throws any other error, EPIPE included', () => {
    const epipe = () => {
      throw errno('EPIPE');
    };
    expect(() => writeAll(1, 'x', epipe)).toThrow('EPIPE');
  });
});
