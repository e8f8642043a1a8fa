import { expect, it } from 'vitest';
import { readReadmeExample } from '../../../vitest.shared.js';

it('README shows the verify example and what it prints', () => {
  const example = readReadmeExample(`${import.meta.dirname}/..`, 'verify.ts');
  expect(example.readmeCode).toBe(example.exampleCode);
  expect(example.readmeOutput).toBe(example.actualOutput);
}, 30_000);
