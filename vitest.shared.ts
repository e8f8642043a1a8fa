import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/** The condition under which workspace packages export their TypeScript sources (see package.json "exports"). */
export const SOURCE_CONDITION = '@snp-ref/source';

/**
 * Vitest settings every workspace project shares. Vite resolves sibling packages through the
 * source condition; it must be set for SSR too, which is how vitest loads test files.
 */
export function definePackageConfig(root: string, name: string): ViteUserConfig {
  return defineConfig({
    root,
    resolve: { conditions: [SOURCE_CONDITION, 'import', 'default'] },
    ssr: { resolve: { conditions: [SOURCE_CONDITION, 'import', 'default'] } },
    test: {
      name,
      include: ['src/**/*.test.ts', 'examples/**/*.test.ts', 'test/**/*.test.ts'],
      environment: 'node',
      // Property tests run hundreds of cases; on a loaded 2-core CI machine 5 s is not enough.
      testTimeout: 60_000,
    },
  });
}

/** A package README's example: its code and output blocks, and what the example file holds and prints. */
export interface ReadmeExample {
  readonly readmeCode: string;
  readonly exampleCode: string;
  readonly readmeOutput: string;
  readonly actualOutput: string;
}

/**
 * Reads the first ```ts block of `<packageDir>/README.md` and the ```text block after it, and runs
 * `<packageDir>/examples/<example>` the way a user would (tsx, source condition), so a test can
 * assert that the README shows exactly the example and exactly what it prints.
 */
export function readReadmeExample(packageDir: string, example: string): ReadmeExample {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const block = (lang: string, from: number) => {
    const start = readme.indexOf(`\`\`\`${lang}\n`, from);
    if (start < 0) throw new Error(`${packageDir}/README.md has no \`\`\`${lang} block`);
    const body = start + lang.length + 4;
    return { text: readme.slice(body, readme.indexOf('```', body)), end: body };
  };
  const code = block('ts', 0);
  const output = block('text', code.end);
  const file = join(packageDir, 'examples', example);
  // Run as in a plain terminal: nx sets FORCE_COLOR, which would colour console.log's numbers.
  const { FORCE_COLOR: _, ...env } = process.env;
  const args = [`--conditions=${SOURCE_CONDITION}`, '--import', 'tsx', file];
  const actualOutput = execFileSync(process.execPath, args, {
    encoding: 'utf8',
    env: { ...env, NO_COLOR: '1' },
  });
  return {
    readmeCode: code.text,
    exampleCode: readFileSync(file, 'utf8'),
    readmeOutput: output.text,
    actualOutput,
  };
}
