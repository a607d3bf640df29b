/**
 * The simulated carrier. Deterministic: the tracking number derives from the idempotency key,
 * so booking again after a crash yields the same parcel, never a second one. Postal code
 * `00000` does not exist: the carrier rejects the address, which no retry can change.
 */
import { createHash } from 'node:crypto';
import type { Address, OrderLine } from '../../libs/events';
import { simulatedLatency } from '../../libs/simulation';

export const CARRIER_NAME = 'SimPost';
const UNDELIVERABLE_POSTAL_CODE = '00000';

export interface BookingRequest {
  idempotencyKey: string;
  address: Address;
  lines: OrderLine[];
}

export type BookingResult = { kind: 'booked'; trackingNumber: string; carrier: string } | { kind: 'rejected'; reason: string };

async function book(request: BookingRequest): Promise<BookingResult> {
  await simulatedLatency('carrier');
  if (request.address.postalCode.trim() === UNDELIVERABLE_POSTAL_CODE) {
    return { kind: 'rejected', reason: `postal code ${UNDELIVERABLE_POSTAL_CODE} does not exist` };
  }
  const digest = createHash('sha256').update(request.idempotencyKey).digest('hex');
  return { kind: 'booked', trackingNumber: `SP${digest.slice(0, 16).toUpperCase()}`, carrier: CARRIER_NAME };
}

/** Calls the parcel back. Cancelling twice, or cancelling an unknown parcel, is harmless. */
async function cancel(_trackingNumber: string): Promise<void> {
  await simulatedLatency('carrier');
}

export const carrier = { book, cancel };
