/**
 * Thrown for faults that may pass on their own (timeouts, throttling, a provider being down).
 * Throwing hands the step to the durable retry policy. Business outcomes - a declined card,
 * an empty shelf - are never thrown: they are returned as values, because retrying them
 * cannot change the answer. Anything else an activity throws is a defect: the activity wrapper
 * (libs/activity.ts) returns it as a value, so that no retry budget is spent on it.
 */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A failure an orchestrator caught, as data: what went wrong and, where the backend says, its error type. */
export interface Failure {
  message: string;
  type?: string;
}

const ACTIVITY_FAILED_PREFIX = /^Activity function '[^']*' failed: /;

/**
 * Reads a failure the same way on every backend. Durable Functions 3.5 hands the orchestrator a
 * TaskFailedError whose `failureDetails` carry the error's type and message as fields; that is
 * read first. Otherwise (older extensions, or any other error) the message is text: its first
 * line (the SDK appends "\n <details>" to an activity's failure), without the
 * `Activity function '<name>' failed: ` the Durable extension puts in front.
 */
export function failureOf(error: unknown): Failure {
  const details = (error as { failureDetails?: { errorMessage?: unknown; errorType?: unknown } } | null)
    ?.failureDetails;
  if (details && typeof details.errorMessage === 'string') {
    const type = typeof details.errorType === 'string' && details.errorType !== '' ? details.errorType : undefined;
    return { message: details.errorMessage.trim(), ...(type ? { type } : {}) };
  }
  const text = error instanceof Error ? error.message : String(error);
  return { message: text.split('\n')[0].trim().replace(ACTIVITY_FAILED_PREFIX, '').trim() };
}

/** The clean message of a failure (see failureOf). */
export function failureText(error: unknown): string {
  return failureOf(error).message;
}

/**
 * True when the durable client's `getStatus` found no such instance. The SDK (3.5,
 * DurableClient.getStatus) turns the extension's 404 into a plain Error with no status field, so
 * its wording is all there is to go by; this is the one place that reads it.
 */
export function isInstanceNotFound(error: unknown): boolean {
  const status =
    (error as { status?: unknown; statusCode?: unknown } | null)?.status ??
    (error as { statusCode?: unknown } | null)?.statusCode;
  if (status === 404) return true;
  return error instanceof Error && /replied with HTTP 404 response/.test(error.message);
}
