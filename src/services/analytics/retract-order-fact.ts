import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { correlatedLogger } from '../../libs/correlation';
import { factType, parseCommand, RetractOrder, type OrderRetracted } from '../../libs/events';
import { AnalyticsActivities } from './contract';
import { analyticsSink } from './sink';

/** Compensation for recordOrderFact: marks the order's fact retracted, recorded or not. */
export async function retractOrderFact(input: unknown, context: InvocationContext): Promise<OrderRetracted> {
  const command = parseCommand(RetractOrder, input);
  const ids = { orderId: command.orderId, correlationId: command.correlationId };
  const log = correlatedLogger(context, ids);

  const { wasRecorded } = await analyticsSink.retract(command.orderId);
  log.info(wasRecorded ? 'order fact retracted' : 'no order fact recorded; tombstone left', { wasRecorded });
  return { type: factType('analytics', 'OrderRetracted'), ...ids, wasRecorded };
}

df.app.activity(AnalyticsActivities.retract, { handler: retractOrderFact });
