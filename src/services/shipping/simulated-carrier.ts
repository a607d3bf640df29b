/**
 * The simulated carrier, the Carrier behind `PROVIDERS=simulated`. Deterministic: the tracking number derives from the idempotency key,
 * so booking again after a crash yields the same parcel, never a second one. Postal code
 * `00000` does not exist: the carrier rejects the address, which no retry can change.
 */
import { createHash } from 'node:crypto';
import { simulatedLatency } from '../../libs/simulation';

export const CARRIER_NAME = 'SimPost';
const UNDELIVERABLE_POSTAL_CODE = '00000';

import type { BookingRequest, BookingResult, Carrier } from './carrier';

async function book(request: BookingRequest): Promise<BookingResult> {
  await simulatedLatency('carrier');
  if (request.address.postalCode.trim() === UNDELIVERABLE_POSTAL_CODE) {
    return { kind: 'rejected', reason: `postal code ${UNDELIVERABLE_POSTAL_CODE} does not exist` };
  }
  const digest = createHash('sha256').update(request.idempotencyKey).digest('hex');
  return { kind: 'booked', trackingNumber: `SP${digest.slice(0, 16).toUpperCase()}`, carrier: CARRIER_NAME };
}

async function cancel(_trackingNumber: string): Promise<void> {
  await simulatedLatency('carrier');
}

export const simulatedCarrier: Carrier = { book, cancel };
