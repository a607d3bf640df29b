import type { HandlerOf } from '../../libs/activity';
import { factType } from '../../libs/events';
import type { AnalyticsContract } from './contract';
import type { AnalyticsProviders } from './providers';

/** Compensation for recordOrderFact: marks the order's fact retracted, recorded or not. */
export const retractOrderFact =
  ({ sink }: AnalyticsProviders): HandlerOf<typeof AnalyticsContract.retract> =>
  async (command, { log }) => {
    const ids = { orderId: command.orderId, correlationId: command.correlationId };

    const { wasRecorded } = await sink.retract(command.orderId);
    log.info(wasRecorded ? 'order fact retracted' : 'no order fact recorded; tombstone left', { wasRecorded });
    return { type: factType('analytics', 'OrderRetracted'), ...ids, wasRecorded };
  };
