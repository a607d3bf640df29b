import { registerActivity } from '../../libs/activity';
import { factType, ORDER_EVENTS_QUEUE, type OrderOutcome } from '../../libs/events';
import { encodeMessage, queueClient } from '../../libs/storage-queues';
import { OrdersContract, type PublishOrderOutcome } from './contract';

export type { PublishOrderOutcome } from './contract';

/** The fact for an order's ending: completed, or cancelled with the status it ended in. */
export function outcomeFact(command: PublishOrderOutcome): OrderOutcome {
  const { orderId, correlationId, customerId, total, currency, at } = command;
  if (command.status === 'Completed') {
    return {
      type: factType('orders', 'OrderCompleted'),
      orderId,
      correlationId,
      customerId,
      total: total ?? 0,
      currency,
      completedAt: at,
    };
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
export const publishOrderOutcome = registerActivity(OrdersContract.publishOutcome, async (command, { log }) => {
  const fact = outcomeFact(command);
  const { messageId } = await queueClient(ORDER_EVENTS_QUEUE).sendMessage(encodeMessage(fact));
  log.info('order outcome published', { type: fact.type, messageId });
  return { messageId, type: fact.type };
});
