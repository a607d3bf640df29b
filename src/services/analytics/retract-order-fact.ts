import { registerActivity } from '../../libs/activity';
import { factType } from '../../libs/events';
import { AnalyticsContract } from './contract';
import { analyticsSink } from './sink';

/** Compensation for recordOrderFact: marks the order's fact retracted, recorded or not. */
export const retractOrderFact = registerActivity(AnalyticsContract.retract, async (command, { log }) => {
  const ids = { orderId: command.orderId, correlationId: command.correlationId };

  const { wasRecorded } = await analyticsSink.retract(command.orderId);
  log.info(wasRecorded ? 'order fact retracted' : 'no order fact recorded; tombstone left', { wasRecorded });
  return { type: factType('analytics', 'OrderRetracted'), ...ids, wasRecorded };
});
