/**
 * One retry policy per step. Only transient faults reach these: business outcomes are returned
 * as values, and the activity wrapper (libs/activity.ts) answers anything else with a defect
 * after one attempt. So each policy answers one question: how long may this dependency be
 * unwell before the saga gives up on the step?
 *
 * "gives up after" is the time spent waiting between attempts (first × 2^(n-1), capped), the
 * activity's own run time not counted: `giveUpAfterMs(policy)`, checked against this table by
 * test/libs/retry-policies.test.ts.
 *
 * | step          | first | backoff | attempts | cap  | gives up after | why |
 * |---------------|-------|---------|----------|------|----------------|-----|
 * | validate      | 1 s   | ×2      | 3        | 10 s | 3 s            | a catalog read; if Cosmos is down for long, fail fast with nothing to undo |
 * | progress      | 1 s   | ×2      | 5        | 15 s | 15 s           | the order document must follow the saga; cheap to retry |
 * | pay           | 2 s   | ×2      | 4        | 30 s | 14 s           | gateways blip (tok_flaky fails twice); the idempotency key makes retries safe |
 * | reserve       | 1 s   | ×2      | 4        | 10 s | 7 s            | ETag contention is resolved inside the activity; this covers Cosmos faults |
 * | notification  | 5 s   | ×2      | 3        | 30 s | 15 s           | non-critical: a late email is fine, a stuck saga is not |
 * | analytics     | 5 s   | ×2      | 3        | 30 s | 15 s           | non-critical: never hold an order for a dashboard |
 * | ship          | 2 s   | ×2      | 4        | 30 s | 14 s           | carrier APIs blip; the idempotency key gives one shipment per order |
 * | commit        | 2 s   | ×2      | 6        | 30 s | 60 s           | folds a completed order's holds into sold units; until it does, the units stay held (never oversold) |
 * | compensation  | 5 s   | ×2      | 6        | 60 s | 135 s          | undoing must try hardest: a failure here needs a person |
 * | publish       | 1 s   | ×2      | 5        | 15 s | 15 s           | the order's ending, to the event queue; a repeat is harmless (consumers are idempotent) |
 */
import * as df from 'durable-functions';

function policy(firstMs: number, attempts: number, capMs: number): df.RetryOptions {
  const options = new df.RetryOptions(firstMs, attempts);
  options.backoffCoefficient = 2;
  options.maxRetryIntervalInMilliseconds = capMs;
  return options;
}

export const RetryPolicies = {
  validate: policy(1_000, 3, 10_000),
  progress: policy(1_000, 5, 15_000),
  pay: policy(2_000, 4, 30_000),
  reserve: policy(1_000, 4, 10_000),
  notification: policy(5_000, 3, 30_000),
  analytics: policy(5_000, 3, 30_000),
  ship: policy(2_000, 4, 30_000),
  commit: policy(2_000, 6, 30_000),
  compensation: policy(5_000, 6, 60_000),
  publish: policy(1_000, 5, 15_000),
} as const;

/**
 * How long a policy keeps trying a step that keeps failing transiently: the sum of the waits
 * before each retry, first × backoff^(n-1) capped at the maximum interval (as the Durable
 * extension computes them), over attempts - 1 retries. Like Temporal's scheduleToCloseTimeout,
 * a bound the saga can be reasoned about with; the activities' own run time comes on top.
 */
export function giveUpAfterMs(options: df.RetryOptions): number {
  const backoff = options.backoffCoefficient > 0 ? options.backoffCoefficient : 1;
  const cap = options.maxRetryIntervalInMilliseconds > 0 ? options.maxRetryIntervalInMilliseconds : Infinity;
  let total = 0;
  for (let retry = 1; retry < options.maxNumberOfAttempts; retry += 1)
    total += Math.min(options.firstRetryIntervalInMilliseconds * backoff ** (retry - 1), cap);
  return total;
}

/** Each step's give-up time, as the table above states it. */
export const GiveUpAfterMs = Object.fromEntries(
  Object.entries(RetryPolicies).map(([step, options]) => [step, giveUpAfterMs(options)]),
) as Record<keyof typeof RetryPolicies, number>;
