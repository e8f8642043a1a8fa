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
    },
  });
}
