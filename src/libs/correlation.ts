import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';

export const CORRELATION_HEADER = 'x-correlation-id';
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's correlation id when it is a sane token, else a new one. */
export function correlationIdFrom(headerValue: string | null | undefined): string {
  return headerValue && ACCEPTABLE_ID.test(headerValue) ? headerValue : randomUUID();
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * One structured line per event, always carrying the correlation id and order id, so a single
 * query in Application Insights follows an order through every function it touched.
 */
export function correlatedLogger(context: InvocationContext, ids: { correlationId: string; orderId?: string }): Logger {
  // Only the ids: callers often pass a whole command, which may hold a card token or an address.
  const tags = { correlationId: ids.correlationId, ...(ids.orderId ? { orderId: ids.orderId } : {}) };
  const line = (message: string, fields?: Record<string, unknown>) =>
    JSON.stringify({ message, function: context.functionName, ...tags, ...fields });
  return {
    info: (message, fields) => context.info(line(message, fields)),
    warn: (message, fields) => context.warn(line(message, fields)),
    error: (message, fields) => context.error(line(message, fields)),
  };
}
