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
 * Sends the order's ending to the order-events queue. The saga does not know who listens; a
 * consumer reacts on its own. Sending the same fact again is harmless: consumers must (and do)
 * take a repeat in their stride (each reacts once per order), as queues
 * deliver at least once anyway. The saga's announcement and an operator's terminate that stopped
 * it in its ending (finish-ending.ts) both send through here.
 */
export async function sendOrderOutcome(command: PublishOrderOutcome): Promise<{ messageId: string; type: string }> {
  const fact = outcomeFact(command);
  const { messageId } = await queueClient(ORDER_EVENTS_QUEUE).sendMessage(encodeMessage(fact));
  return { messageId, type: fact.type };
}

/** The saga's announcement of the order's ending (`OrderSaga.announce`). */
export const publishOrderOutcome = registerActivity(OrdersContract.publishOutcome, async (command, { log }) => {
  const sent = await sendOrderOutcome(command);
  log.info('order outcome published', sent);
  return sent;
});
