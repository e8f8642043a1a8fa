import { expect, it } from 'vitest';
import { readReadmeExample } from '../../../vitest.shared.js';

it('README shows the launch example and what it prints', () => {
  const example = readReadmeExample(`${import.meta.dirname}/..`, 'launch.ts');
  expect(example.readmeCode).toBe(example.exampleCode);
  expect(example.readmeOutput).toBe(example.actualOutput);
}, 30_000);
