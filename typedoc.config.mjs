// typedoc for the libraries (packages/*): `npm run docs` writes the API reference to docs/api/
// (git-ignored); `npm test` runs it with --emit none, failing on any warning, among them an export
// without documentation. A package with more than one entry point (package.json "exports") lists
// them in its own typedoc.json.
import { OptionDefaults } from 'typedoc';

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'snp-ref',
  entryPointStrategy: 'packages',
  entryPoints: ['packages/*'],
  packageOptions: {
    entryPoints: ['src/index.ts'],
    tsconfig: 'tsconfig.lib.json',
    // `@conforms <id>` ties a model function to the C it is checked against (patches/README.md).
    blockTags: [...OptionDefaults.blockTags, '@conforms'],
    // The repository has no public remote to link sources to.
    disableSources: true,
    requiredToBeDocumented: [
      'Enum',
      'Variable',
      'Function',
      'Class',
      'Interface',
      'TypeAlias',
      'Method',
      'Accessor',
    ],
    validation: { notExported: true, invalidLink: true, notDocumented: true },
  },
  disableSources: true,
  out: 'docs/api',
  treatWarningsAsErrors: true,
};
