// npm run mutation: Stryker on rmp-core and on kvm-svm's launch path (MUTATE=rmp-core or
// MUTATE=kvm-svm runs one). Reports go to reports/mutation/.
const targets = {
  'rmp-core': {
    mutate: [
      'packages/rmp-core/src/**/*.ts',
      '!packages/rmp-core/src/**/*.test.ts',
      '!packages/rmp-core/src/test/**',
    ],
    vitest: { configFile: 'packages/rmp-core/vitest.config.ts', dir: 'packages/rmp-core' },
  },
  'kvm-svm': {
    mutate: [
      'packages/kvm-svm/src/snp/launchUpdate.ts',
      'packages/kvm-svm/src/snp/snpVm.ts',
      'packages/kvm-svm/src/snp/firmwareCalls.ts',
      'packages/kvm-svm/src/host/*.ts',
      '!packages/kvm-svm/src/**/*.test.ts',
    ],
    vitest: { configFile: 'packages/kvm-svm/vitest.config.ts', dir: 'packages/kvm-svm' },
  },
};
const target = process.env.MUTATE ?? 'rmp-core';
if (!(target in targets)) throw new Error(`MUTATE=${target}: expected ${Object.keys(targets).join(' or ')}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: targets[target].mutate,
  vitest: targets[target].vitest,
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 60_000,
  ignorePatterns: ['reports', 'snp-ref-out', 'tools/cli/dist', '**/out-tsc', '**/dist'],
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${target}.json` },
  htmlReporter: { fileName: `reports/mutation/${target}.html` },
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: '.stryker-tmp',
};
