import type { HandlerOf } from '../../libs/activity';
import { factType } from '../../libs/events';
import type { PaymentsContract } from './contract';
import type { PaymentGateway } from './payment-gateway';
import type { PaymentsProviders } from './providers';
import { chargeKey, refundKey } from './idempotency-keys';
import { refundLateCharge } from './late-charge';
import { refundedFact } from './payment-facts';
import { markRefunded, readPayment, recordPayment, voidPayment, type PaymentDocument } from './repository';

/**
 * Compensation for chargePayment: gives the whole amount back, once. Refunding an order that
 * paid nothing is not an error; it says so, so the saga's log shows why nothing moved. It also
 * leaves a voided tombstone then: a charge still on its way (an operator stopped the saga while it
 * was at the gateway) finds it and takes nothing, or refunds what it took (chargePayment). A late
 * charge whose refund is still pending on the tombstone is refunded here, in one try: a transient
 * failure throws, and this step's caller retries it (the saga's policy, then the dead letter).
 */
export const refundPayment =
  ({ gateway }: PaymentsProviders): HandlerOf<typeof PaymentsContract.refund> =>
  async (command, { log }) => {
    const ids = { orderId: command.orderId, correlationId: command.correlationId };

    let payment = await readPayment(command.orderId);
    // Nothing recorded: a charge the gateway made unrecorded, else the tombstone (a charge recorded meanwhile wins).
    payment ??=
      (await adoptUnrecordedCharge(gateway, command.orderId)) ?? (await voidPayment(command.orderId, new Date()));
    // Voided by an earlier run: a charge may have reached the gateway since, unrecorded or its refund pending.
    if (payment.status === 'voided')
      payment = await refundLateCharge(gateway, payment, { log, delaysMs: [], lastChance: false });
    if (payment.status === 'voided' && payment.lateCharge?.refundId) {
      log.info('a charge that landed after the void was refunded; answering with that refund');
      return refundedFact(ids, payment.lateCharge.refundId, payment.lateCharge.amount);
    }
    if (payment.status === 'voided' || payment.status === 'declined') {
      const reason =
        payment.status === 'declined' ? 'no payment was made: the card was declined' : 'no payment was made';
      log.info('refund not needed', { reason });
      return { type: factType('payments', 'RefundNotNeeded'), ...ids, reason };
    }
    if (payment.status === 'refunded') {
      log.info('payment already refunded; answering as before');
      return refundedFact(ids, payment.refundId, payment.amount);
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
    return refundedFact(ids, refunded.refundId, refunded.amount);
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
