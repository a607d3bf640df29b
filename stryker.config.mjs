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
  timeoutMS: 20000,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
