// Mutation testing (`npm run test:mutation`, through scripts/mutation.ts): a measure of how much the
// tests catch, not a CI gate. Runs one mutant at a time: the machines it runs on are shared.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: ['src/services/orders/saga.ts', 'src/services/*/*.orchestrator.ts', 'src/services/*/repository.ts'],
  testRunner: 'jest',
  jest: { configFile: 'jest.mutation.config.js', enableFindRelatedTests: false },
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  concurrency: 1,
  timeoutMS: 5000,
  // A static mutant (module-level code) would need every test again for each one: left out.
  ignoreStatic: true,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  // Later runs test again only the mutants whose code or tests changed (`-- --force` for all).
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  // Not copied into the sandbox: caches and build output the tests do not read (.cache alone is ~0.5 GB).
  ignorePatterns: ['/.cache', '/dist', '/coverage', '/test-artifacts', '/.data', '/.bicep-out'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
