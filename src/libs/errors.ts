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
