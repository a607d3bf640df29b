/**
 * The simulated carrier, the Carrier behind `PROVIDERS=simulated`. Deterministic: the tracking
 * number derives from the idempotency key, so booking again after a crash yields the same parcel,
 * never a second one. Postal code `00000` does not exist: the carrier rejects the address, which
 * no retry can change.
 *
 * Its bookings live in the `carrierBookings` container, one per parcel, so it remembers them
 * across calls and restarts as a real carrier would: a parcel booked by a run that crashed before
 * the shop recorded it can still be found (findBooking) and called back.
 */
import { createHash } from 'node:crypto';
import { simulatedLatency } from '../../libs/simulation';
import type { BookingRequest, BookingResult, Carrier, Parcel } from './carrier';
import { cancelCarrierBooking, createCarrierBooking, readCarrierBooking } from './repository';

export const CARRIER_NAME = 'SimPost';
const UNDELIVERABLE_POSTAL_CODE = '00000';

const trackingNumberFor = (idempotencyKey: string): string =>
  `SP${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 16).toUpperCase()}`;

async function book(request: BookingRequest): Promise<BookingResult> {
  await simulatedLatency('carrier');
  if (request.address.postalCode.trim() === UNDELIVERABLE_POSTAL_CODE) {
    return { kind: 'rejected', reason: `postal code ${UNDELIVERABLE_POSTAL_CODE} does not exist` };
  }
  const booking = await createCarrierBooking({
    id: trackingNumberFor(request.idempotencyKey),
    reference: request.idempotencyKey,
    carrier: CARRIER_NAME,
    status: 'booked',
    bookedAt: new Date().toISOString(),
  });
  return { kind: 'booked', trackingNumber: booking.id, carrier: booking.carrier };
}

async function cancel(trackingNumber: string): Promise<void> {
  await simulatedLatency('carrier');
  await cancelCarrierBooking(trackingNumber, new Date());
}

/** The tracking number is the key's, so the lookup by reference is one read. */
async function findBooking(idempotencyKey: string): Promise<Parcel | undefined> {
  await simulatedLatency('carrier');
  const booking = await readCarrierBooking(trackingNumberFor(idempotencyKey));
  return booking && { trackingNumber: booking.id, carrier: booking.carrier };
}

export const simulatedCarrier: Carrier = { book, cancel, findBooking };
