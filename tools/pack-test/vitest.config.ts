import { definePackageConfig } from '../../vitest.shared.js';

export default definePackageConfig(import.meta.dirname, '@snp-ref/pack-test');
