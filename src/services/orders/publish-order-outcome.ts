import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import * as z from 'zod';
import { correlatedLogger } from '../../libs/correlation';
import { Currency, factType, ORDER_EVENTS_QUEUE, type OrderOutcome, parseCommand } from '../../libs/events';
import { encodeMessage, queueClient } from '../../libs/storage-queues';
import { OrdersActivities } from './contract';
import { FINAL } from './order-view';

const PublishOrderOutcome = z.object({
  orderId: z.string().min(1),
  correlationId: z.string().min(1),
  customerId: z.string(),
  status: z.enum(FINAL),
  reason: z.string().optional(),
  total: z.number().nullable(),
  currency: Currency,
  at: z.string(),
});
export type PublishOrderOutcome = z.infer<typeof PublishOrderOutcome>;

/** The fact for an order's ending: completed, or cancelled with the status it ended in. */
export function outcomeFact(command: PublishOrderOutcome): OrderOutcome {
  const { orderId, correlationId, customerId, total, currency, at } = command;
  if (command.status === 'Completed') {
    return { type: factType('orders', 'OrderCompleted'), orderId, correlationId, customerId, total: total ?? 0, currency, completedAt: at };
  }
  return {
    type: factType('orders', 'OrderCancelled'),
    orderId,
    correlationId,
    customerId,
    finalStatus: command.status,
    reason: command.reason ?? '',
    total,
    currency,
    cancelledAt: at,
  };
}

/**
 * Publishes the order's ending to the order-events queue. The saga does not know who listens;
 * a consumer reacts on its own. A repeated run sends the same fact again, which consumers
 * must (and do) take in their stride: queues deliver at least once anyway.
 */
export async function publishOrderOutcome(input: unknown, context: InvocationContext): Promise<{ messageId: string; type: string }> {
  const fact = outcomeFact(parseCommand(PublishOrderOutcome, input));
  const { messageId } = await queueClient(ORDER_EVENTS_QUEUE).sendMessage(encodeMessage(fact));
  correlatedLogger(context, fact).info('order outcome published', { type: fact.type, messageId });
  return { messageId, type: fact.type };
}

df.app.activity(OrdersActivities.publishOutcome, { handler: publishOrderOutcome });
