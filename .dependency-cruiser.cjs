// The package graph of docs/architecture.md ("Packages and dependency direction"),
// enforced on resolved file paths. tools/boundaries has a fixture test proving each rule fires.
const packagesOutside = (...allowed) => `^packages/(?!(${allowed.join('|')})/)`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'rmp-core-is-the-base',
      comment: 'rmp-core imports no other snp-ref package.',
      severity: 'error',
      from: { path: '^packages/rmp-core/' },
      to: { path: packagesOutside('rmp-core') },
    },
    {
      name: 'psp-firmware-sits-on-rmp-core',
      comment: 'psp-firmware may import rmp-core only.',
      severity: 'error',
      from: { path: '^packages/psp-firmware/' },
      to: { path: packagesOutside('rmp-core', 'psp-firmware') },
    },
    {
      name: 'attestation-sits-on-firmware',
      comment: 'attestation (the verifier of real reports) may import psp-firmware only.',
      severity: 'error',
      from: { path: '^packages/attestation/' },
      to: { path: packagesOutside('psp-firmware', 'attestation') },
    },
    {
      name: 'kvm-svm-sits-on-firmware-and-rmp',
      comment: 'kvm-svm may import psp-firmware and rmp-core only.',
      severity: 'error',
      from: { path: '^packages/kvm-svm/' },
      to: { path: packagesOutside('rmp-core', 'psp-firmware', 'kvm-svm') },
    },
    {
      name: 'guest-sees-rmp-and-report-format',
      comment: 'guest may import rmp-core, and psp-firmware for the guest-request message format.',
      severity: 'error',
      from: { path: '^packages/guest/' },
      to: { path: packagesOutside('rmp-core', 'psp-firmware', 'guest') },
    },
    {
      name: 'scenario-sits-on-kvm-and-guest',
      comment: 'scenario may import kvm-svm and guest, and what they use (psp-firmware, rmp-core).',
      severity: 'error',
      from: { path: '^packages/scenario/' },
      to: { path: packagesOutside('rmp-core', 'psp-firmware', 'kvm-svm', 'guest', 'scenario') },
    },
    {
      name: 'nothing-imports-a-tool',
      comment: 'Tools sit on top: no package and no other tool imports a tool.',
      severity: 'error',
      from: { path: '^(packages|tools)/([^/]+)/' },
      to: { path: '^tools/([^/]+)/', pathNot: '^tools/$2/' },
    },
    {
      name: 'no-cycles',
      comment: 'The graph is acyclic, inside packages too.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'declared-dependencies-only',
      comment: 'A workspace package imports only npm packages it declares in its package.json.',
      severity: 'error',
      from: { path: '^(packages|tools)/' },
      // A bare '@snp-ref/x' import resolves (via the workspace link) to packages/x/src and is typed
      // 'undetermined', as the nearest package.json has no "workspaces"; the graph rules above judge it.
      to: {
        dependencyTypes: ['npm-no-pkg', 'npm-unknown', 'unknown', 'undetermined'],
        pathNot: '^packages/',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // fixtures/ holds deliberately forbidden imports (tools/boundaries); snp-conform's model/ is a
    // copy of packages/ made for packing (tools/patch-conformance/scripts/pack-model.mjs).
    exclude: { path: '(^|/)(node_modules|dist|out-tsc|fixtures)/|^tools/patch-conformance/model/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    combinedDependencies: false,
    preserveSymlinks: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@snp-ref/source', 'import', 'types', 'default'],
      extensions: ['.ts', '.js', '.json'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
