import type { HandlerOf } from '../../libs/activity';
import { factType } from '../../libs/events';
import type { ShippingContract } from './contract';
import type { ShippingProviders } from './providers';
import { markCancelled } from './repository';

/**
 * Compensation for createShipment. The document is marked first and the carrier told after, on
 * every run: if telling the carrier fails, the retry finds the document already cancelled and
 * still tells the carrier (which shrugs off repeats) instead of skipping it.
 */
export const cancelShipment =
  ({ carrier }: ShippingProviders): HandlerOf<typeof ShippingContract.cancel> =>
  async (command, { log }) => {
    const ids = { orderId: command.orderId, correlationId: command.correlationId };

    const cancelled = await markCancelled(command.orderId, new Date());
    const wasCreated = cancelled.trackingNumber !== undefined;
    if (cancelled.trackingNumber !== undefined) await carrier.cancel(cancelled.trackingNumber);
    log.info(wasCreated ? 'shipment cancelled' : 'no shipment existed; tombstone left', { wasCreated });
    return { type: factType('shipping', 'ShipmentCancelled'), ...ids, wasCreated };
  };
