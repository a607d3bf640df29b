import {
  factType,
  type PaymentCharged,
  type PaymentDeclined,
  type PaymentRefunded,
  type PaymentVoided,
} from '../../libs/events';
import type { PaymentDocument } from './repository';

type Ids = { orderId: string; correlationId: string };

/**
 * The charge fact a stored payment stands for. A refunded payment was charged first, so a late
 * duplicate of the charge step hears "charged" (with the same payment id), never a new charge. A
 * voided payment (its refund came before any charge was recorded) is never "charged": whatever
 * still runs the step hears that nothing stands, so it cannot go on as if the order had paid.
 */
export function chargeFactOf(payment: PaymentDocument, ids: Ids): PaymentCharged | PaymentDeclined | PaymentVoided {
  if (payment.status === 'declined')
    return { type: factType('payments', 'PaymentDeclined'), ...ids, reason: payment.reason };
  if (payment.status === 'voided') {
    const reason = payment.lateCharge
      ? 'the order was undone while its payment was being charged: the charge was refunded'
      : 'the order was undone before its payment was charged: nothing was taken';
    return { type: factType('payments', 'PaymentVoided'), ...ids, reason };
  }
  return {
    type: factType('payments', 'PaymentCharged'),
    ...ids,
    paymentId: payment.paymentId,
    amount: payment.amount,
    currency: payment.currency,
  };
}

/** The refund fact: for a first refund, and for every repeat that answers with the refund it found. */
export const refundedFact = (ids: Ids, refundId: string, amount: number): PaymentRefunded => ({
  type: factType('payments', 'PaymentRefunded'),
  ...ids,
  refundId,
  amount,
});
