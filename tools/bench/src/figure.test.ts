import { describe, expect, it } from 'vitest';
import { type Figure, formatFigures, formatValue, meets } from './figure.js';

const figure = (value: number, target?: Figure['target']): Figure => ({
  name: 'rmpupdate',
  value,
  unit: 'ops/s',
  reference: { name: 'flat store', value: 200e6 },
  ...(target === undefined ? {} : { target }),
});

describe(formatValue, () => {
  it('scales rates by powers of ten and bytes by powers of two', () => {
    expect(formatValue(23_456_789, 'ops/s')).toBe('23.5 Mops/s');
    expect(formatValue(21_810_380.8, 'B')).toBe('20.8 MiB');
    expect(formatValue(13.5, 'B')).toBe('13.5 B');
  });
});

describe(meets, () => {
  it('checks a minimum, a maximum, or nothing', () => {
    expect(meets(figure(25e6, { min: 20e6 }))).toBe(true);
    expect(meets(figure(15e6, { min: 20e6 }))).toBe(false);
    expect(meets(figure(15e6, { max: 16e6 }))).toBe(true);
    expect(meets(figure(15e6))).toBeUndefined();
  });
});

describe(formatFigures, () => {
  it('prints the ratio to the reference and flags a missed target', () => {
    const [, , row] = formatFigures([figure(10e6, { min: 20e6 })]).split('\n');
    expect(row).toMatch(
      /^rmpupdate +10\.0 Mops\/s +0\.0500× +flat store \(200 Mops\/s\) +≥ 20\.0 Mops\/s MISSED$/,
    );
  });
});
