import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { correlatedLogger } from '../../libs/correlation';
import { factType, parseCommand, RecordOrder, type OrderRecorded } from '../../libs/events';
import { AnalyticsActivities } from './contract';
import { analyticsSink } from './sink';

/**
 * Records the order for reporting. Answers OrderRecorded even when the stored fact is already
 * retracted: the step's job (this order is known to analytics) is done, and the retraction,
 * which came from a compensation, must win over a late duplicate of this step.
 */
export async function recordOrderFact(input: unknown, context: InvocationContext): Promise<OrderRecorded> {
  const command = parseCommand(RecordOrder, input);
  const ids = { orderId: command.orderId, correlationId: command.correlationId };
  const log = correlatedLogger(context, ids);

  const { customerId, total, currency, lines } = command;
  const stored = await analyticsSink.record({ orderId: command.orderId, customerId, total, currency, lines });
  log.info(stored.status === 'retracted' ? 'order fact already retracted; left retracted' : 'order fact recorded', { total, currency });
  return { type: factType('analytics', 'OrderRecorded'), ...ids };
}

df.app.activity(AnalyticsActivities.record, { handler: recordOrderFact });
