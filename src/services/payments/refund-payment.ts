import type { HandlerOf } from '../../libs/activity';
import { factType } from '../../libs/events';
import type { PaymentsContract } from './contract';
import type { PaymentGateway } from './payment-gateway';
import type { PaymentsProviders } from './providers';
import { chargeKey, refundKey } from './idempotency-keys';
import { markRefunded, readPayment, recordPayment, type PaymentDocument } from './repository';

/**
 * Compensation for chargePayment: gives the whole amount back, once. Refunding an order that
 * paid nothing is not an error; it says so, so the saga's log shows why nothing moved.
 */
export const refundPayment =
  ({ gateway }: PaymentsProviders): HandlerOf<typeof PaymentsContract.refund> =>
  async (command, { log }) => {
    const ids = { orderId: command.orderId, correlationId: command.correlationId };

    const payment = (await readPayment(command.orderId)) ?? (await adoptUnrecordedCharge(gateway, command.orderId));
    if (!payment || payment.status === 'declined') {
      const reason = payment ? 'no payment was made: the card was declined' : 'no payment was made';
      log.info('refund not needed', { reason });
      return { type: factType('payments', 'RefundNotNeeded'), ...ids, reason };
    }
    if (payment.status === 'refunded') {
      log.info('payment already refunded; answering as before');
      return {
        type: factType('payments', 'PaymentRefunded'),
        ...ids,
        refundId: payment.refundId,
        amount: payment.amount,
      };
    }

    const refund = await gateway.refund({
      idempotencyKey: refundKey(command.orderId),
      chargeKey: chargeKey(command.orderId),
    });
    const refunded = await markRefunded(command.orderId, {
      refundId: refund.refundId,
      refundedAt: new Date().toISOString(),
    });
    log.info('payment refunded', { amount: refunded.amount });
    return {
      type: factType('payments', 'PaymentRefunded'),
      ...ids,
      refundId: refunded.refundId,
      amount: refunded.amount,
    };
  };

/**
 * A charge can succeed at the gateway while its result never reaches the payment document (the
 * step ran out of retries in between). The saga then undoes the step anyway, and the gateway,
 * asked by the charge's idempotency key, still knows the money was taken: record it, then refund it.
 */
async function adoptUnrecordedCharge(gateway: PaymentGateway, orderId: string): Promise<PaymentDocument | undefined> {
  const charge = await gateway.findCharge(chargeKey(orderId));
  if (!charge) return undefined;
  return recordPayment({
    id: orderId,
    orderId,
    status: 'charged',
    paymentId: charge.chargeId,
    amount: charge.amount,
    currency: charge.currency,
    recordedAt: new Date().toISOString(),
  });
}
