import { factType, type PaymentCharged, type PaymentDeclined } from '../../libs/events';
import type { PaymentDocument } from './repository';

type Ids = { orderId: string; correlationId: string };

/**
 * The charge fact a stored payment stands for. A refunded payment was charged first, so a late
 * duplicate of the charge step hears "charged" (with the same payment id), never a new charge.
 */
export function chargeFactOf(payment: PaymentDocument, ids: Ids): PaymentCharged | PaymentDeclined {
  if (payment.status === 'declined')
    return { type: factType('payments', 'PaymentDeclined'), ...ids, reason: payment.reason };
  return {
    type: factType('payments', 'PaymentCharged'),
    ...ids,
    paymentId: payment.paymentId,
    amount: payment.amount,
    currency: payment.currency,
  };
}
