import { expect, it } from 'vitest';
import { readReadmeExample } from '../../../vitest.shared.js';

it('README shows the step-by-step example and what it prints', () => {
  const example = readReadmeExample(`${import.meta.dirname}/..`, 'step-by-step.ts');
  expect(example.readmeCode).toBe(example.exampleCode);
  expect(example.readmeOutput).toBe(example.actualOutput);
}, 30_000);
