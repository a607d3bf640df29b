/**
 * The host's half of `callActivityWithRetry` (the SDK's half is task/RetryableTask.js).
 *
 * The SDK never asks for a retry: after a TaskFailed it silently takes the next task id for a
 * retry timer and waits for that TimerFired; on it, if attempts remain, it takes another id for
 * the rescheduled activity and waits for its result; if none remain, the task fails right there.
 * The host must therefore create a timer after every failure (the last one included) and
 * schedule the next attempt on the timer, using the ids the SDK took before any new action's.
 * As in DurableTask.Core's RetryInterceptor, the timer after the last failure is due at once.
 */
import type { RetryPolicy } from './store';

/** The extension's RetryOptions.DefaultMaxRetryinterval, used when the SDK sends no maximum. */
export const DEFAULT_MAX_RETRY_INTERVAL_MS = 6 * 24 * 3600_000;

/**
 * Delay before retry n (n = failures so far, from 1): first × coefficient^(n-1), capped at
 * maxRetryInterval (RetryInterceptor.ComputeNextDelay; RetryOptionsConverter reads the SDK's
 * fields, the coefficient defaults to 1 and the cap to 6 days).
 */
export function retryDelayMs(policy: RetryPolicy, failures: number): number {
  const coefficient = policy.backoffCoefficient && policy.backoffCoefficient > 0 ? policy.backoffCoefficient : 1;
  const delay = policy.firstRetryIntervalInMilliseconds * coefficient ** Math.max(0, failures - 1);
  const cap =
    policy.maxRetryIntervalInMilliseconds && policy.maxRetryIntervalInMilliseconds > 0
      ? policy.maxRetryIntervalInMilliseconds
      : DEFAULT_MAX_RETRY_INTERVAL_MS;
  return Math.min(delay, cap);
}

/** Whether the SDK will reschedule once the retry timer after `failures` failures fires. */
export function attemptsRemain(policy: RetryPolicy, failures: number): boolean {
  return failures < policy.maxNumberOfAttempts;
}

export function retryPolicyOf(options: Record<string, unknown> | undefined): RetryPolicy {
  const number = (key: string) => (typeof options?.[key] === 'number' ? (options[key] as number) : undefined);
  return {
    firstRetryIntervalInMilliseconds: number('firstRetryIntervalInMilliseconds') ?? 1,
    maxNumberOfAttempts: number('maxNumberOfAttempts') ?? 1,
    backoffCoefficient: number('backoffCoefficient'),
    maxRetryIntervalInMilliseconds: number('maxRetryIntervalInMilliseconds'),
    retryTimeoutInMilliseconds: number('retryTimeoutInMilliseconds'),
  };
}
