import type { HandlerOf } from '../../libs/activity';
import { factType } from '../../libs/events';
import type { AnalyticsContract } from './contract';
import type { AnalyticsProviders } from './providers';

/**
 * Records the order for reporting. Answers OrderRecorded even when the stored fact is already
 * retracted: the step's job (this order is known to analytics) is done, and the retraction,
 * which came from a compensation, must win over a late duplicate of this step.
 */
export const recordOrderFact =
  ({ sink }: AnalyticsProviders): HandlerOf<typeof AnalyticsContract.record> =>
  async (command, { log }) => {
    const ids = { orderId: command.orderId, correlationId: command.correlationId };

    const { customerId, total, currency, lines } = command;
    const stored = await sink.record({ orderId: command.orderId, customerId, total, currency, lines });
    log.info(stored.status === 'retracted' ? 'order fact already retracted; left retracted' : 'order fact recorded', {
      total,
      currency,
    });
    return { type: factType('analytics', 'OrderRecorded'), ...ids };
  };
