/** Shared by the context tests: fresh ids per test, and an invocation context that keeps quiet. */
import { InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';

/** Unique per call, so tests sharing one Cosmos server never see each other's documents. */
export const uniqueId = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

/** Ids for a new order, as every command carries them. */
export const newOrder = (label = 'order') => ({ orderId: uniqueId(label), correlationId: uniqueId('corr') });

export interface CapturedLog {
  level: string;
  text: string;
}

/** An InvocationContext as the host would pass it, whose log lines are captured instead of printed. */
export function invocation(functionName: string): InvocationContext & { logs: CapturedLog[] } {
  const logs: CapturedLog[] = [];
  const context = new InvocationContext({
    functionName,
    logHandler: (level, ...args) => logs.push({ level, text: args.map(String).join(' ') }),
  });
  return Object.assign(context, { logs });
}
