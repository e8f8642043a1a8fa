import { describe, expect, it } from 'vitest';
import { progressReporter } from './progress.js';

/** A reporter on a clock the test moves, recording what it writes and how often it asks about the terminal. */
function reporter(terminal: boolean) {
  let clock = 0;
  const written: string[] = [];
  let asked = 0;
  const report = progressReporter(
    'measuring',
    (text) => written.push(text),
    () => {
      asked++;
      return terminal;
    },
    () => clock,
  );
  return {
    written,
    asked: () => asked,
    /** Ten reports of a 10-page run, `ms` apart, then the clearing call. */
    runTen: (ms: number) => {
      for (let done = 1; done <= 10; done++) {
        clock += ms;
        report(done, 10);
      }
      report(0, 0);
    },
  };
}

describe('progressReporter', () => {
  it('draws nothing and asks nothing of a run shorter than a tenth of a second', () => {
    const r = reporter(true);
    r.runTen(9);
    expect(r.written).toEqual([]);
    expect(r.asked()).toBe(0);
  });

  it('on a terminal: redraws at most every 100 ms, completes the line, then clears it', () => {
    const r = reporter(true);
    r.runTen(60);
    expect(r.written).toEqual([
      '\r\x1b[2Kmeasuring: 2/10 pages (20 %)',
      '\r\x1b[2Kmeasuring: 4/10 pages (40 %)',
      '\r\x1b[2Kmeasuring: 6/10 pages (60 %)',
      '\r\x1b[2Kmeasuring: 8/10 pages (80 %)',
      '\r\x1b[2Kmeasuring: 10/10 pages (100 %)',
      '\r\x1b[2K',
    ]);
    expect(r.asked()).toBe(1);
  });

  it('elsewhere (a log file, a pipe): asks once, writes nothing', () => {
    const r = reporter(false);
    r.runTen(150);
    expect(r.written).toEqual([]);
    expect(r.asked()).toBe(1);
  });
});
