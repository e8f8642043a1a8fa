import { expect, it } from 'vitest';
import { readReadmeExample } from '../../../vitest.shared.js';

it('README shows the #VC story and what it prints', () => {
  const example = readReadmeExample(`${import.meta.dirname}/..`, 'vc-story.ts');
  expect(example.readmeCode).toBe(example.exampleCode);
  expect(example.readmeOutput).toBe(example.actualOutput);
}, 30_000);
