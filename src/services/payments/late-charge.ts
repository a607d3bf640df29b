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
import type { PaymentGateway } from './payment-gateway';
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

/** A charge the gateway holds, as it answers findCharge. */
type FoundCharge = NonNullable<Awaited<ReturnType<PaymentGateway['findCharge']>>>;

export interface LateRefundOptions {
  log: Logger;
  /** Waits before each retry; none: one try, the caller's retry policy does the rest. */
  delaysMs: readonly number[];
  /** Nothing retries the caller if this fails: a charge still unrefunded is logged for a person. */
  lastChance: boolean;
  /** The charge this run just made, when it is the one that landed: recorded as it is, not looked up. */
  charge?: FoundCharge;
}

/**
 * The order's payment is voided, yet the gateway may hold a charge made under its key: one that
 * was on its way when the void was written (its own record then lost to the tombstone), or whose
 * run died before recording it. Records it on the tombstone, then refunds it under the refund key,
 * each step tried again on a transient fault as `delaysMs` says. Returns the tombstone as stored:
 * refunded, or as it was when the gateway holds no charge. A step still failing after the retries
 * throws its transient fault, the charge left pending on the tombstone once it is recorded; on the
 * last chance, an error then says what a person must refund.
 */
export async function refundLateCharge(
  gateway: PaymentGateway,
  voided: VoidedPayment,
  options: LateRefundOptions,
): Promise<VoidedPayment> {
  if (voided.lateCharge?.refundId) return voided;
  const { orderId } = voided;
  let late: Pick<LateCharge, 'paymentId' | 'amount' | 'currency'> | undefined =
    voided.lateCharge ??
    (options.charge && {
      paymentId: options.charge.chargeId,
      amount: options.charge.amount,
      currency: options.charge.currency,
    });
  let onThePayment = voided.lateCharge !== undefined;
  try {
    let tombstone = voided;
    if (!tombstone.lateCharge) {
      const recorded = await withRetries(options, 'recording a late charge', async () => {
        const charge = options.charge ?? (await gateway.findCharge(chargeKey(orderId)));
        if (!charge) return undefined;
        late = { paymentId: charge.chargeId, amount: charge.amount, currency: charge.currency };
        return recordLateCharge(orderId, { ...late, foundAt: new Date().toISOString() });
      });
      if (!recorded) return voided;
      tombstone = recorded;
      onThePayment = true;
      // A concurrent run recorded it first, and has refunded it already.
      if (tombstone.lateCharge?.refundId) return tombstone;
    }
    const refund = await withRetries(options, 'refunding a late charge', () =>
      gateway.refund({ idempotencyKey: refundKey(orderId), chargeKey: chargeKey(orderId) }),
    );
    return await withRetries(options, 'marking a late charge refunded', () =>
      markLateChargeRefunded(orderId, { refundId: refund.refundId, refundedAt: new Date().toISOString() }),
    );
  } catch (error) {
    if (options.lastChance && isTransient(error)) {
      // Both say "a person must refund it", the text to alert on. Recorded, it is listed, and the
      // route refunds under the order's refund key (its refund may have gone through, only the
      // mark failing): by hand at the gateway only what no document of ours holds.
      const message = onThePayment
        ? 'a late charge could not be refunded: a person must refund it with POST /api/operations/payments/late-charges/{orderId}/refund, which refunds nothing twice'
        : "a late charge could not be recorded: a person must refund it at the gateway, under the order's refund key";
      options.log.error(message, {
        orderId,
        // Unknown only when the gateway could not even be asked whether it holds a charge.
        ...(late ? { chargeId: late.paymentId, amount: late.amount, currency: late.currency } : {}),
        recordedOnThePayment: onThePayment,
        lastError: describeError(error),
      });
    }
    throw error;
  }
}

/** Runs `step`, trying it again after each of `delaysMs` while it fails transiently. */
async function withRetries<T>({ log, delaysMs }: LateRefundOptions, what: string, step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await step();
    } catch (error) {
      const delay = delaysMs[attempt - 1];
      if (!isTransient(error) || delay === undefined) throw error;
      log.warn(`${what} failed; trying again`, { attempt, retryInMs: delay });
      await lateRefundRetry.wait(delay);
    }
  }
}
