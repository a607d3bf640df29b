/**
 * `npm test` runs a small campaign on a fixed seed; `npm run test:faults` runs ≥ 500 orders on a
 * new seed (printed), and FAULT_SEED replays one.
 */
import { formatReport, runCampaign } from './campaign';

const orders = Number(process.env.FAULT_ORDERS ?? 60);
const seed = Number(
  process.env.FAULT_SEED ?? (process.env.FAULT_ORDERS ? Math.floor(Math.random() * 2 ** 31) : 20261125),
);

jest.setTimeout(30 * 60_000);

test(`${orders} orders under injected faults keep every invariant (seed ${seed})`, async () => {
  const report = await runCampaign({ orders, seed, log: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`\n${formatReport(report)}\n\n`);
  expect(report.orders).toBe(orders);
  // The campaign must actually have broken things, in every way, for its verdict to mean anything.
  if (orders >= 50)
    for (const kind of ['transient', 'permanent', 'slow', 'crashAfterSideEffect'] as const)
      expect(report.faults[kind]).toBeGreaterThan(0);
  expect(report.lateReserves).toBeGreaterThan(0);
  expect(report.violations).toEqual([]);
});
