/**
 * Three jest projects; `npm test` runs them all, `npm run test:unit` (and :integration, :e2e) one.
 * - unit: pure code, the durable engine, the orchestrators on stub activities (the middle layer),
 *   the replay tests and the compiled Bicep. No server process starts; no Cosmos.
 * - integration: the contexts and the whole app on a local Cosmos server and Azurite.
 * - e2e: the offline host, the CLI and the browser as separate processes, and the conformance
 *   suite (the same scenarios on local/engine and on the real Durable extension).
 */
const UNIT = [
  '<rootDir>/test/engine/**/*.test.ts',
  '<rootDir>/test/libs/**/*.test.ts',
  '<rootDir>/test/docs/**/*.test.ts',
  '<rootDir>/test/orders/pricing.test.ts',
  '<rootDir>/test/orders/request-schemas.test.ts',
  '<rootDir>/test/saga/replay.test.ts',
  '<rootDir>/test/saga/orchestrator.test.ts',
  '<rootDir>/test/saga/repair.test.ts',
  '<rootDir>/test/saga/live-status.test.ts',
  '<rootDir>/test/saga/commands.test.ts',
  '<rootDir>/test/saga/approval-events.test.ts',
  '<rootDir>/test/saga/view-size.test.ts',
  '<rootDir>/test/faults/invariants.test.ts',
  '<rootDir>/test/infra/{azd,contexts,options,template}.test.ts',
];

/** @type {import('jest').Config} */
const base = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  // Supplies the worker module @azure/functions looks for, so registrations are captured, not skipped.
  moduleNameMapper: { '^@azure/functions-core$': '<rootDir>/local/engine/functions-core.ts' },
};

/** One local Cosmos server for the whole run (test workers inherit COSMOS_ENDPOINT). */
const withCosmos = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  projects: [
    { ...base, displayName: 'unit', testMatch: UNIT },
    {
      ...base,
      ...withCosmos,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/test/e2e/', '/test/conformance/', ...UNIT.map(globToPattern)],
    },
    {
      ...base,
      ...withCosmos,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts', '<rootDir>/test/conformance/**/*.test.ts'],
    },
  ],
};

/** testPathIgnorePatterns are regular expressions; the UNIT list is globs. */
function globToPattern(glob) {
  return glob
    .replace('<rootDir>', '')
    .replace(/[.+^$()|[\]\\]/g, '\\$&')
    .replace(/\{([^}]+)\}/g, (_, names) => `(${names.split(',').join('|')})`)
    .replace('/**/', '/(.*/)?')
    .replace(/\*/g, '[^/]*')
    .concat('$');
}
