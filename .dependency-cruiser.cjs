// Architecture rules checked by `npm run lint` (dependency-cruiser): no import cycles anywhere, packages
// talk to each other only by package name, and the layering client-sdk -> protocol <- coordinator holds.
const PACKAGES = '(protocol|secagg|models|recsys|client-sdk|coordinator|dashboard|apps/[^/]+|examples)';
const LIBRARIES = '(protocol|secagg|models|recsys|client-sdk|coordinator|dashboard)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle makes load order matter and hides which module is the lower layer.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-relative-import-across-packages',
      severity: 'error',
      comment: 'Import another package by its name (@fedrec/...), so package.json says what depends on what.',
      from: { path: `^${PACKAGES}/` },
      to: { pathNot: '^$1/', dependencyTypes: ['local'], dependencyTypesNot: ['aliased'] },
    },
    {
      name: 'root-imports-packages-by-name',
      severity: 'error',
      comment: 'Tests, benchmarks and scripts use packages as an app would: by name.',
      from: { path: '^(test|bench|scripts)/' },
      to: { path: `^${PACKAGES}/`, dependencyTypes: ['local'], dependencyTypesNot: ['aliased'] },
    },
    {
      name: 'libraries-never-import-apps',
      severity: 'error',
      comment: 'Apps (CLI, simulate, examples) build on libraries, never the other way round.',
      from: { path: `^${LIBRARIES}/` },
      to: { path: '^(apps|examples|test|bench|scripts)/' },
    },
    {
      name: 'protocol-is-the-bottom',
      severity: 'error',
      comment: 'protocol/ is the contract both sides import: it imports no other package of ours.',
      from: { path: '^protocol/' },
      to: { path: `^${PACKAGES}/`, pathNot: '^protocol/' },
    },
    {
      name: 'client-sdk-never-imports-the-server',
      severity: 'error',
      comment: 'client-sdk -> protocol <- coordinator: nothing server-side may reach an app or a browser bundle.',
      from: { path: '^(client-sdk|secagg|models|recsys)/' },
      to: { path: '^(coordinator|dashboard|apps)/' },
    },
    {
      name: 'coordinator-is-model-agnostic',
      severity: 'error',
      comment: 'The coordinator aggregates manifests and flat weights; models and devices are not its business.',
      from: { path: '^coordinator/' },
      to: { path: '^(client-sdk|models|recsys|dashboard)/' },
    },
    {
      name: 'declared-dependencies-only',
      severity: 'error',
      comment: 'Each package imports only third-party modules its own package.json declares (workspace deps: test/architecture).',
      from: { path: `^${PACKAGES}/`, pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown', 'unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
  },
};
