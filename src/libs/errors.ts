/**
 * Thrown for faults that may pass on their own (timeouts, throttling, a provider being down).
 * Throwing hands the step to the durable retry policy. Business outcomes - a declined card,
 * an empty shelf - are never thrown: they are returned as values, because retrying them
 * cannot change the answer.
 */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

const ACTIVITY_FAILED_PREFIX = /^Activity function '[^']*' failed: /;

/**
 * The clean text of a failure an orchestrator caught, the same on every backend: the message
 * from the failure details when the SDK gives them (a TaskFailedError); otherwise the first
 * line of the message (the SDK appends "\n <details>" to an activity's failure) without the
 * `Activity function '<name>' failed: ` the Durable extension puts in front.
 */
export function failureText(error: unknown): string {
  const details = (error as { failureDetails?: { errorMessage?: unknown } } | null)?.failureDetails;
  if (details && typeof details.errorMessage === 'string') return details.errorMessage.trim();
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].trim().replace(ACTIVITY_FAILED_PREFIX, '').trim();
}
