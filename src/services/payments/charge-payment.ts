import type { HandlerOf } from '../../libs/activity';
import type { PaymentsContract } from './contract';
import { chargeKey } from './idempotency-keys';
import { chargeFactOf } from './payment-facts';
import type { PaymentsProviders } from './providers';
import { readPayment, recordPayment, type PaymentDocument } from './repository';

/**
 * Takes the order's money once. The payment document answers repeats without asking the gateway;
 * when a run crashed between the gateway's answer and that document, the idempotency key makes
 * the gateway repeat its first answer instead of charging again.
 */
export const chargePayment =
  ({ gateway }: PaymentsProviders): HandlerOf<typeof PaymentsContract.charge> =>
  async (command, { log }) => {
    const ids = { orderId: command.orderId, correlationId: command.correlationId };

    const existing = await readPayment(command.orderId);
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
    log.info(recorded.status === 'declined' ? 'payment declined' : 'payment charged', {
      amount: command.amount,
      currency: command.currency,
    });
    return chargeFactOf(recorded, ids);
  };
