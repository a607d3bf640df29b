import type { HandlerOf } from '../../libs/activity';
import type { PaymentsContract } from './contract';
import { chargeKey } from './idempotency-keys';
import { chargeFactOf } from './payment-facts';
import type { PaymentsProviders } from './providers';
import { lateRefundRetry, refundLateCharge, type LateRefundOptions } from './late-charge';
import { readPayment, recordPayment, type PaymentDocument, type VoidedPayment } from './repository';

/**
 * Takes the order's money once. The payment document answers repeats without asking the gateway;
 * when a run crashed between the gateway's answer and that document, the idempotency key makes
 * the gateway repeat its first answer instead of charging again.
 *
 * A voided document (the refund ran first: an operator stopped the saga while this step was on its
 * way) answers PaymentVoided and charges nothing. A charge that was already at the gateway when
 * the void was written finds it in place of its own record, and refunds itself at once, as a
 * parcel booked onto a cancelled shipment is called back (createShipment). That run may be the
 * only one ever to see the charge (its saga was terminated: nothing retries it), so it records the
 * charge on the tombstone first and retries a failing refund itself (late-charge.ts).
 */
export const chargePayment =
  ({ gateway }: PaymentsProviders): HandlerOf<typeof PaymentsContract.charge> =>
  async (command, { log }) => {
    const ids = { orderId: command.orderId, correlationId: command.correlationId };
    const refundLate = (voided: VoidedPayment, charge?: LateRefundOptions['charge']) =>
      refundLateCharge(gateway, voided, { log, delaysMs: lateRefundRetry.delaysMs, lastChance: true, charge });

    const existing = await readPayment(command.orderId);
    if (existing?.status === 'voided') {
      // The gateway is asked only whether it holds a charge (a run that died before recording it).
      const voided = await refundLate(existing);
      log.info('payment voided before it was charged; nothing taken', {
        lateChargeRefunded: !!voided.lateCharge?.refundId,
      });
      return chargeFactOf(voided, ids);
    }
    if (existing) {
      log.info('payment already settled; answering as before', { status: existing.status });
      return chargeFactOf(existing, ids);
    }

    const result = await gateway.charge({
      idempotencyKey: chargeKey(command.orderId),
      orderId: command.orderId,
      token: command.paymentToken,
      amount: command.amount,
      currency: command.currency,
    });
    const base = {
      id: command.orderId,
      orderId: command.orderId,
      amount: command.amount,
      currency: command.currency,
      recordedAt: new Date().toISOString(),
    };
    const payment: PaymentDocument =
      result.kind === 'charged'
        ? { ...base, status: 'charged', paymentId: result.chargeId }
        : { ...base, status: 'declined', reason: result.reason };
    const recorded = await recordPayment(payment);
    if (recorded.status === 'voided') {
      // This run knows the charge it made: recorded as it is, without asking the gateway again.
      const voided =
        result.kind === 'charged'
          ? await refundLate(recorded, {
              chargeId: result.chargeId,
              amount: command.amount,
              currency: command.currency,
            })
          : recorded;
      log.warn('payment voided while it was being charged', { refunded: voided.lateCharge?.amount ?? 0 });
      return chargeFactOf(voided, ids);
    }
    log.info(recorded.status === 'declined' ? 'payment declined' : 'payment charged', {
      amount: command.amount,
      currency: command.currency,
    });
    return chargeFactOf(recorded, ids);
  };
