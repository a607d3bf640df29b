/** The retry table in retry-policies.ts says what each policy does; these check that it does. */
import { readFileSync } from 'node:fs';
import { retryDelayMs } from '../../local/engine/retries';
import { GiveUpAfterMs, giveUpAfterMs, RetryPolicies } from '../../src/services/orders/retry-policies';

const seconds = (cell: string) => Number(/^(\d+) s$/.exec(cell)?.[1] ?? NaN) * 1000;

/** The rows of the table in the module's header comment. */
function statedTable(): Map<string, { first: number; attempts: number; cap: number; givesUpAfter: number }> {
  const source = readFileSync(require.resolve('../../src/services/orders/retry-policies.ts'), 'utf8');
  const rows = new Map<string, { first: number; attempts: number; cap: number; givesUpAfter: number }>();
  for (const line of source.split('\n')) {
    const cells = line
      .replace(/^\s*\*\s*/, '')
      .split('|')
      .map((cell) => cell.trim());
    if (cells.length < 8 || !(cells[1] in RetryPolicies)) continue;
    rows.set(cells[1], {
      first: seconds(cells[2]),
      attempts: Number(cells[4]),
      cap: seconds(cells[5]),
      givesUpAfter: seconds(cells[6]),
    });
  }
  return rows;
}

describe('retry policies', () => {
  const table = statedTable();

  it('has one row in the table for every policy', () => {
    expect([...table.keys()].sort()).toEqual(Object.keys(RetryPolicies).sort());
  });

  it.each(Object.entries(RetryPolicies))(
    '%s does what its row says, and gives up after the time stated',
    (step, options) => {
      const row = table.get(step)!;
      expect({
        first: options.firstRetryIntervalInMilliseconds,
        attempts: options.maxNumberOfAttempts,
        cap: options.maxRetryIntervalInMilliseconds,
        backoff: options.backoffCoefficient,
      }).toEqual({
        first: row.first,
        attempts: row.attempts,
        cap: row.cap,
        backoff: 2,
      });
      expect(giveUpAfterMs(options)).toBe(row.givesUpAfter);
      expect(GiveUpAfterMs[step as keyof typeof RetryPolicies]).toBe(row.givesUpAfter);
    },
  );

  it('counts the waits the host makes between attempts (the engine computes them as the extension does)', () => {
    for (const options of Object.values(RetryPolicies)) {
      const waits = Array.from({ length: options.maxNumberOfAttempts - 1 }, (_, index) =>
        retryDelayMs(options, index + 1),
      );
      expect(giveUpAfterMs(options)).toBe(waits.reduce((sum, wait) => sum + wait, 0));
    }
    // 5 + 10 + 20 + 40 + 60 (80, capped) seconds.
    expect(giveUpAfterMs(RetryPolicies.compensation)).toBe(135_000);
  });
});
