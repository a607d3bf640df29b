/**
 * The tests Stryker runs against each mutant (`npm run test:mutation`): the orchestrators on stub
 * activities and the replay tests (the fast middle layer), and the context repositories' tests on
 * the local Cosmos server that scripts/mutation.ts starts once for the whole run.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: [
    '<rootDir>/test/saga/{orchestrator,replay,repair,live-status,commands,approval-events}.test.ts',
    '<rootDir>/test/services/*.test.ts',
    '<rootDir>/test/orders/repository.test.ts',
  ],
  // Transpile only: type errors in a mutant are the TypeScript checker's to report, once.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true, diagnostics: false }] },
  moduleNameMapper: { '^@azure/functions-core$': '<rootDir>/local/engine/functions-core.ts' },
  testTimeout: 60000,
};
