// Mutation testing (`npm run test:mutation`, through scripts/mutation.ts): a measure of how much the
// tests catch, not a CI gate. Runs one mutant at a time: the machines it runs on are shared.
//
// Mutants that survive by design (not chased; each changes nothing a caller can observe):
// - saga.ts, a single `this.publish()` removed, or the condition before one (`if (…) this.publish()`
//   → true/false): setCustomStatus keeps a reference to the one view object and the SDK serializes
//   it when the episode ends, and every episode publishes at least once, so one call fewer or more
//   shows the same status. Emptying publish() itself is killed (test/saga/live-status.test.ts).
// - saga.ts complete(): `alongside.some(…)` → `every(…)`: there is one alongside task (commit stock).
// - saga.ts settleAll(): `if (all.length === 0) return` dropped (Task.all of nothing completes at
//   once, scheduling nothing), and yielding a task that already settled (it answers at once).
// - saga.ts lastEntry(): first instead of last entry of a name: no step name is begun twice in one run.
// - place-order.orchestrator.ts `!analytics.ok || isFact(OrderRecorded, …)` → true: recordOrderFact
//   answers nothing but OrderRecorded, so the fact test is true whenever the branch succeeded.
// - orders/repository.ts recordDecision `let recorded = false` → true: decide always runs and resets
//   it before it is read.
// - orders/repository.ts readCatalog, `sku.trim() === sku` dropped: a padded sku is read and not
//   found; the filter only saves the request.
// - notifications and loyalty repositories, `{ partitionKey }` → `{}` on a query that filters on the
//   partition key anyway: the option saves a cross-partition fan-out (cost, not result).
// Code that runs when a module loads (the approval event's schema) counts as covered by only the
// first test of each file that loads it: test/saga/approval-events.test.ts is one test for that reason.
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
