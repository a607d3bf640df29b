import type { HandlerOf } from '../../libs/activity';
import { factType, type ShipmentCreated } from '../../libs/events';
import type { ShippingContract } from './contract';
import type { ShippingProviders } from './providers';
import { readShipment, recordShipment, type ShipmentDocument } from './repository';

/**
 * Raised when asked to ship an order whose shipment was cancelled. Neither fact would be true
 * (nothing is shipped; the address is fine), and shipping would undo a compensation, so this is
 * an error, not an outcome: the activity wrapper answers it with a defect after one attempt (no
 * retry can cure it). The saga never asks for it: seeing it means a stale, duplicated call.
 */
export class ShipmentAlreadyCancelled extends Error {
  override readonly name = 'ShipmentAlreadyCancelled';
  constructor(orderId: string) {
    super(`shipment for order ${orderId} was cancelled; it will not be created again`);
  }
}

/** The key the order's parcel is booked under: the shop's reference for it at the carrier. */
export const bookingKey = (orderId: string): string => `${orderId}:shipment`;

/** Books one parcel per order: the carrier's idempotency key is the order's, so repeats rebook the same one. */
export const createShipment =
  ({ carrier }: ShippingProviders): HandlerOf<typeof ShippingContract.create> =>
  async (command, { log }) => {
    const ids = { orderId: command.orderId, correlationId: command.correlationId };
    const created = (shipment: ShipmentDocument): ShipmentCreated => {
      if (shipment.status === 'cancelled') throw new ShipmentAlreadyCancelled(command.orderId);
      return {
        type: factType('shipping', 'ShipmentCreated'),
        ...ids,
        trackingNumber: shipment.trackingNumber,
        carrier: shipment.carrier,
      };
    };

    const existing = await readShipment(command.orderId);
    if (existing) {
      log.info('shipment exists; answering as before', { status: existing.status });
      return created(existing);
    }

    const booking = await carrier.book({
      idempotencyKey: bookingKey(command.orderId),
      address: command.address,
      lines: command.lines,
    });
    if (booking.kind === 'rejected') {
      log.info('address rejected', { reason: booking.reason });
      return { type: factType('shipping', 'AddressRejected'), ...ids, reason: booking.reason };
    }
    const stored = await recordShipment(command.orderId, {
      trackingNumber: booking.trackingNumber,
      carrier: booking.carrier,
      address: command.address,
      lines: command.lines,
      createdAt: new Date().toISOString(),
    });
    if (stored.status === 'cancelled' && stored.trackingNumber === undefined) {
      // The undo ran while this booking was on its way (a terminated saga's step still runs), and
      // found nothing to call back: this run calls back the parcel it just booked.
      await carrier.cancel(booking.trackingNumber);
      log.warn('shipment cancelled while it was being booked: parcel called back', {
        trackingNumber: booking.trackingNumber,
      });
    } else log.info('shipment created', { trackingNumber: booking.trackingNumber });
    return created(stored);
  };
