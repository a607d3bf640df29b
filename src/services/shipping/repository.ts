/**
 * The shipping context's data: at most one shipment per order, created or cancelled (what this
 * shop knows), and the simulated carrier's bookings (what the carrier knows; a real carrier keeps
 * these on its side, under the reference we send it).
 */
import { contextDatabase, createOnce, optimisticUpdate } from '../../libs/cosmos';
import type { Address, OrderLine } from '../../libs/events';
import type { Parcel } from './carrier';

export const shippingData = contextDatabase('shipping', { shipments: '/orderId', carrierBookings: '/id' });

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

/** One parcel at the simulated carrier, keyed (id) by its tracking number. */
export interface CarrierBooking {
  id: string;
  /** The idempotency key the shop booked it under: its reference at the carrier. */
  reference: string;
  carrier: string;
  status: 'booked' | 'cancelled';
  bookedAt: string;
  cancelledAt?: string;
}

const shipments = () => shippingData.container('shipments');
const bookings = () => shippingData.container('carrierBookings');

export async function readShipment(orderId: string): Promise<ShipmentDocument | undefined> {
  const { resource } = await shipments().item(orderId, orderId).read<ShipmentDocument>();
  return resource;
}

/** Stores a booked shipment; if the order already has a shipment document, that one stands. */
export async function recordShipment(orderId: string, booked: BookedShipment): Promise<ShipmentDocument> {
  const shipment: ShipmentDocument = { id: orderId, orderId, status: 'created', ...booked };
  return (await createOnce(shipments(), shipment, orderId)).stored;
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

/**
 * Puts a booking found at the carrier on the order's cancelled shipment that lacks one (a
 * tombstone), so the document says what was booked and a repeat finds it. A booking already on the
 * document stands. Returns the stored document.
 */
export async function recordFoundBooking(orderId: string, found: Parcel): Promise<ShipmentDocument> {
  const stored = await optimisticUpdate<ShipmentDocument>(shipments(), orderId, orderId, (current) => {
    if (current?.status !== 'cancelled') throw new Error(`shipment ${orderId}: no cancelled shipment to record on`);
    if (current.trackingNumber !== undefined) return undefined;
    return { ...current, trackingNumber: found.trackingNumber, carrier: found.carrier };
  });
  return stored!;
}

export async function readCarrierBooking(trackingNumber: string): Promise<CarrierBooking | undefined> {
  const { resource } = await bookings().item(trackingNumber, trackingNumber).read<CarrierBooking>();
  return resource;
}

/** Stores a new booking; one already under that tracking number stands and is returned. */
export async function createCarrierBooking(booking: CarrierBooking): Promise<CarrierBooking> {
  return (await createOnce(bookings(), booking, booking.id)).stored;
}

/** Marks a booking cancelled; an unknown or already cancelled one is left as it is. */
export async function cancelCarrierBooking(trackingNumber: string, now: Date): Promise<CarrierBooking | undefined> {
  return optimisticUpdate<CarrierBooking>(bookings(), trackingNumber, trackingNumber, (current) =>
    current?.status === 'booked' ? { ...current, status: 'cancelled', cancelledAt: now.toISOString() } : undefined,
  );
}
