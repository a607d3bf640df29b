/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // Supplies the worker module @azure/functions looks for, so registrations are captured, not skipped.
  moduleNameMapper: { '^@azure/functions-core$': '<rootDir>/local/engine/functions-core.ts' },
  testTimeout: 60000,
};
