/**
 * What the shipping context needs from a parcel carrier. A booking carries an idempotency key,
 * so booking again after a crash yields the same parcel; an address the carrier cannot deliver to
 * is an answer, a carrier that cannot be reached throws TransientError. The implementation is
 * chosen by the PROVIDERS setting (shipping/index.ts); the only one today is simulated-carrier.ts.
 */
import type { Address, OrderLine } from '../../libs/events';

export interface BookingRequest {
  idempotencyKey: string;
  address: Address;
  lines: OrderLine[];
}

/** A parcel as the carrier names it. */
export interface Parcel {
  trackingNumber: string;
  carrier: string;
}

export type BookingResult = ({ kind: 'booked' } & Parcel) | { kind: 'rejected'; reason: string };

export interface Carrier {
  book(request: BookingRequest): Promise<BookingResult>;
  /** Calls the parcel back. Cancelling twice, or cancelling an unknown parcel, is harmless. */
  cancel(trackingNumber: string): Promise<void>;
  /**
   * The parcel booked under `idempotencyKey`, if any, cancelled or not: how the shop finds a
   * parcel it booked but never recorded. Carriers' shipment APIs offer this as a lookup by the
   * client's own reference, the one sent with the booking.
   */
  findBooking(idempotencyKey: string): Promise<Parcel | undefined>;
}
