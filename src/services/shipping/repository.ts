/** The shipping context's data: at most one shipment per order, created or cancelled. */
import { contextDatabase, cosmosStatus, optimisticUpdate } from '../../libs/cosmos';
import type { Address, OrderLine } from '../../libs/events';

export const shippingData = contextDatabase('shipping', { shipments: '/orderId' });

export interface BookedShipment {
  trackingNumber: string;
  carrier: string;
  address: Address;
  lines: OrderLine[];
  createdAt: string;
}

export type ShipmentDocument = { id: string; orderId: string } & (
  | ({ status: 'created' } & BookedShipment)
  /** Booking details are absent on a tombstone: cancelled before anything was booked. */
  | ({ status: 'cancelled'; cancelledAt: string } & Partial<BookedShipment>)
);

const shipments = () => shippingData.container('shipments');

export async function readShipment(orderId: string): Promise<ShipmentDocument | undefined> {
  const { resource } = await shipments().item(orderId, orderId).read<ShipmentDocument>();
  return resource;
}

/** Stores a booked shipment; if the order already has a shipment document, that one stands. */
export async function recordShipment(orderId: string, booked: BookedShipment): Promise<ShipmentDocument> {
  const shipment: ShipmentDocument = { id: orderId, orderId, status: 'created', ...booked };
  try {
    await shipments().items.create(shipment);
    return shipment;
  } catch (error) {
    if (cosmosStatus(error) !== 409) throw error;
    const stored = await readShipment(orderId);
    if (!stored) throw new Error(`shipment ${orderId} conflicted on create but cannot be read`, { cause: error });
    return stored;
  }
}

/**
 * Marks the order's shipment cancelled. With no shipment yet, leaves a cancelled tombstone so a
 * create arriving late cannot ship the order. Returns the stored cancelled document, which still
 * carries the booking when there was one.
 */
export async function markCancelled(orderId: string, now: Date): Promise<ShipmentDocument> {
  const stored = await optimisticUpdate<ShipmentDocument>(shipments(), orderId, orderId, (current) => {
    if (current?.status === 'cancelled') return undefined;
    if (!current) return { id: orderId, orderId, status: 'cancelled', cancelledAt: now.toISOString() };
    const { trackingNumber, carrier, address, lines, createdAt } = current;
    return {
      id: orderId,
      orderId,
      status: 'cancelled',
      cancelledAt: now.toISOString(),
      trackingNumber,
      carrier,
      address,
      lines,
      createdAt,
    };
  });
  return stored!;
}
