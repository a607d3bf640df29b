/**
 * Every knob scenario of README's table, end to end: the demo's own scenario list and runner
 * against the offline host as a separate process over real HTTP. Durable time runs ×7200, so
 * retry backoffs pass at once and the 24-hour approval timeout takes 12 seconds.
 */
import { spawnSync } from 'node:child_process';
import { runScenarios, type ScenarioResult } from '../../local/demo/runner';
import { DEMO_SCENARIOS, type FinalStatus } from '../../local/demo/scenarios';
import { ledgerOf, useHostCosmos } from './support/app-data';
import { hostFixture, ROOT, type HostFixture, type HostProcess } from './support/host-process';

jest.setTimeout(180_000);

let fixture: HostFixture | undefined;
let host: HostProcess | undefined;
let results: ScenarioResult[] = [];
let restoreCosmos: (() => void) | undefined;

beforeAll(async () => {
  fixture = hostFixture('scenarios');
  host = await fixture.start('data', { DURABLE_TIME_SCALE: '7200' });
  results = await runScenarios(DEMO_SCENARIOS, { baseUrl: host.baseUrl, pollMs: 100, timeoutMs: 90_000 });
  restoreCosmos = useHostCosmos(host.dataDir);
});

afterAll(async () => {
  restoreCosmos?.();
  await fixture?.cleanup([host]);
});

const resultOf = (key: string) => results.find((result) => result.scenario.key === key)!;

describe.each(DEMO_SCENARIOS.map((scenario) => [scenario.key, scenario] as const))('%s', (key, scenario) => {
  it(`ends ${scenario.expected.status}${scenario.expected.warning ? ' with a warning' : ''}`, () => {
    const result = resultOf(key);
    expect({ status: result.status, warned: (result.view?.warnings.length ?? 0) > 0, error: result.error }).toEqual({
      status: scenario.expected.status,
      warned: scenario.expected.warning ?? false,
      error: undefined,
    });
    expect(result.ok).toBe(true);
  });

  it('moved money exactly once, and gave it back when the order was undone', async () => {
    const result = resultOf(key);
    const { charges, refunds } = await ledgerOf(result.orderId);
    const expected: Record<FinalStatus, [number, number]> = {
      Completed: [1, 0],
      Rejected: [0, 0],
      Failed: [0, 0],
      Compensated: [1, 1],
      CompensationFailed: [1, 0],
    };
    expect([charges.length, refunds.length]).toEqual(expected[scenario.expected.status]);
    if (refunds.length > 0) expect(refunds[0].amount).toBe(charges[0].amount);
  });
});

it('the demo command runs every scenario against the host and exits 0', () => {
  const demo = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', host!.baseUrl, '--timeout-s', '60'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 90_000,
  });
  expect(demo.stderr).toBe('');
  expect(demo.status).toBe(0);
  const quick = DEMO_SCENARIOS.filter((scenario) => !scenario.slow);
  expect(demo.stdout).toContain(`all ${quick.length} scenarios ended as expected`);
  for (const scenario of quick)
    expect(demo.stdout).toMatch(
      new RegExp(`demo-${scenario.key}-\\S+ +${escape(scenario.knob)} +✓ ${scenario.expected.status}`),
    );
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
