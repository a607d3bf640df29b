/**
 * awardLoyaltyPoints: the loyalty context's reaction to how an order ended (choreography).
 *
 * A queue trigger on the saga's order-events queue. Queues deliver at least once, so the
 * reaction is idempotent: the ledger holds at most one entry per order. A message that is not a
 * fact this context understands throws; after `maxDequeueCount` attempts (host.json) the
 * Functions host moves it to `order-events-poison`, where an operator sees it
 * (GET /api/operations/loyalty/poison).
 */
import { app, type InvocationContext } from '@azure/functions';
import { correlatedLogger } from '../../libs/correlation';
import {
  ORDER_EVENTS_QUEUE,
  OrderCompleted,
  type OrderOutcome,
  OrderOutcome as OrderOutcomeSchema,
  isFact,
  parseCommand,
} from '../../libs/events';
import { LoyaltyFunctions } from './contract';
import { type LedgerEntry, recordOnce } from './repository';

/** One point per whole unit of the order's currency. */
export const POINTS_PER_UNIT = 1;
/** For a customer who was charged and then had the order undone. */
export const GOODWILL_POINTS = 25;

/** The business rule, as a value: what the ledger should hold for this fact, if anything. */
export function entryFor(fact: OrderOutcome): LedgerEntry | undefined {
  const base = {
    id: fact.orderId,
    customerId: fact.customerId,
    orderId: fact.orderId,
    correlationId: fact.correlationId,
    fact: fact.type,
  };
  if (isFact(OrderCompleted, fact))
    return { ...base, points: Math.floor(fact.total * POINTS_PER_UNIT), why: 'order completed', at: fact.completedAt };
  // Only a customer whose money was taken and given back gets a gesture; a declined card does not.
  if (fact.finalStatus === 'Compensated' || fact.finalStatus === 'CompensationFailed') {
    return { ...base, points: GOODWILL_POINTS, why: 'goodwill: order cancelled after payment', at: fact.cancelledAt };
  }
  return undefined;
}

export async function awardLoyaltyPoints(message: unknown, context: InvocationContext): Promise<void> {
  const fact = parseCommand(OrderOutcomeSchema, message);
  const log = correlatedLogger(context, fact);
  const entry = entryFor(fact);
  if (!entry) {
    log.info('no points for this ending', {
      type: fact.type,
      finalStatus: 'finalStatus' in fact ? fact.finalStatus : undefined,
    });
    return;
  }
  const { entry: stored, repeated } = await recordOnce(entry);
  log.info(repeated ? 'points already recorded for this order; unchanged' : 'points recorded', {
    customerId: stored.customerId,
    points: stored.points,
    dequeueCount: context.triggerMetadata?.dequeueCount,
  });
}

app.storageQueue(LoyaltyFunctions.onOrderOutcome, {
  queueName: ORDER_EVENTS_QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: awardLoyaltyPoints,
});
