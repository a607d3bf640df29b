import type { HandlerOf } from '../../libs/activity';
import { factType } from '../../libs/events';
import type { Carrier } from './carrier';
import type { ShippingContract } from './contract';
import { bookingKey } from './create-shipment';
import type { ShippingProviders } from './providers';
import { markCancelled, recordFoundBooking, type ShipmentDocument } from './repository';

/**
 * Compensation for createShipment. The document is marked first and the carrier told after, on
 * every run: if telling the carrier fails, the retry finds the document already cancelled and
 * still tells the carrier (which shrugs off repeats) instead of skipping it.
 */
export const cancelShipment =
  ({ carrier }: ShippingProviders): HandlerOf<typeof ShippingContract.cancel> =>
  async (command, { log }) => {
    const ids = { orderId: command.orderId, correlationId: command.correlationId };

    const marked = await markCancelled(command.orderId, new Date());
    const cancelled =
      marked.trackingNumber === undefined ? await adoptUnrecordedBooking(carrier, command.orderId, marked) : marked;
    const wasCreated = cancelled.trackingNumber !== undefined;
    if (cancelled.trackingNumber !== undefined) await carrier.cancel(cancelled.trackingNumber);
    log.info(wasCreated ? 'shipment cancelled' : 'no shipment existed; tombstone left', { wasCreated });
    return { type: factType('shipping', 'ShipmentCancelled'), ...ids, wasCreated };
  };

/**
 * A booking can succeed at the carrier while its result never reaches the shipment document (the
 * step ran out of retries in between). The saga then undoes the step anyway, and finds only the
 * tombstone it just left; the carrier, asked by the booking's key, still knows the parcel: record
 * it on the tombstone, then call it back. Nothing found: nothing was booked, the tombstone stands.
 */
async function adoptUnrecordedBooking(
  carrier: Carrier,
  orderId: string,
  tombstone: ShipmentDocument,
): Promise<ShipmentDocument> {
  const found = await carrier.findBooking(bookingKey(orderId));
  return found ? recordFoundBooking(orderId, found) : tombstone;
}
