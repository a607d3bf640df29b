/**
 * A late charge: one that reached the gateway after its order's payment was voided (an operator
 * stopped the saga while the charge was on its way, and the repair's refund found nothing yet).
 * The money must go back, and the only run that may ever see it is the charge itself: its saga
 * was terminated, so nothing retries that activity, and the order's repair has already completed.
 *
 * So the charge is first written on the tombstone, its refund pending, and only then refunded:
 * at no moment is money taken that no document of ours mentions. A refund the gateway fails
 * transiently is tried again in the same activity, with backoff, up to a bound; one still failing
 * then is left pending on the tombstone (a later refundPayment or a redelivered chargePayment
 * refunds it), and, where this run was the last chance, logged as an error for a person to act on.
 * Every try goes under the order's refund key, so the gateway refunds once however often it is asked.
 */
import { isTransient } from '../../libs/activity';
import type { Logger } from '../../libs/correlation';
import { describeError } from '../../libs/errors';
import { chargeKey, refundKey } from './idempotency-keys';
import type { PaymentGateway, RefundResult } from './payment-gateway';
import { markLateChargeRefunded, recordLateCharge, type LateCharge, type VoidedPayment } from './repository';

/**
 * The waits between the tries of a late charge's refund in one activity: seven tries over about a
 * minute (63 s of waiting, plus the gateway's own time per try), well inside a function's timeout.
 * `wait` is what the tests replace, so they run the whole schedule without waiting it out.
 */
export const lateRefundRetry = {
  delaysMs: [1_000, 2_000, 4_000, 8_000, 16_000, 32_000] as readonly number[],
  wait: (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface LateRefundOptions {
  log: Logger;
  /** Waits before each retry; none: one try, the caller's retry policy does the rest. */
  delaysMs: readonly number[];
  /** Nothing retries the caller if this fails: a refund still pending is logged for a person to make. */
  lastChance: boolean;
}

/**
 * The order's payment is voided, yet the gateway may hold a charge made under its key: one that
 * was on its way when the void was written (its own record then lost to the tombstone), or whose
 * run died before recording it. Records it on the tombstone, then refunds it under the refund key.
 * Returns the tombstone as stored: refunded, or as it was when the gateway holds no charge. A
 * refund still failing after the retries throws the gateway's transient fault, the charge left
 * pending on the tombstone.
 */
export async function refundLateCharge(
  gateway: PaymentGateway,
  voided: VoidedPayment,
  options: LateRefundOptions,
): Promise<VoidedPayment> {
  if (voided.lateCharge?.refundId) return voided;
  let tombstone = voided;
  if (!tombstone.lateCharge) {
    const charge = await gateway.findCharge(chargeKey(voided.orderId));
    if (!charge) return voided;
    tombstone = await recordLateCharge(voided.orderId, {
      paymentId: charge.chargeId,
      amount: charge.amount,
      currency: charge.currency,
      foundAt: new Date().toISOString(),
    });
    // A concurrent run recorded it first, and has refunded it already.
    if (tombstone.lateCharge?.refundId) return tombstone;
  }
  const late = tombstone.lateCharge!;
  const refund = await refundWithRetries(gateway, late, voided.orderId, options);
  return markLateChargeRefunded(voided.orderId, { refundId: refund.refundId, refundedAt: new Date().toISOString() });
}

async function refundWithRetries(
  gateway: PaymentGateway,
  late: LateCharge,
  orderId: string,
  { log, delaysMs, lastChance }: LateRefundOptions,
): Promise<RefundResult> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await gateway.refund({ idempotencyKey: refundKey(orderId), chargeKey: chargeKey(orderId) });
    } catch (error) {
      if (!isTransient(error)) throw error;
      const delay = delaysMs[attempt - 1];
      if (delay === undefined) {
        if (lastChance) {
          log.error('a late charge could not be refunded: a person must refund it at the gateway', {
            orderId,
            chargeId: late.paymentId,
            amount: late.amount,
            currency: late.currency,
            attempts: attempt,
            lastError: describeError(error),
          });
        }
        throw error;
      }
      log.warn('the refund of a late charge failed; trying again', { attempt, retryInMs: delay });
      await lateRefundRetry.wait(delay);
    }
  }
}
