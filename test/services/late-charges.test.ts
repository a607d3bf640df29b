/**
 * The payments context's operator routes for a late charge whose own refund gave up: listed, and
 * refunded once, on the real local Cosmos server, through the app's HTTP routes.
 */
import { TransientError } from '../../src/libs/errors';
import type { ChargePayment } from '../../src/libs/events';
import { paymentsActivities } from '../../src/services/payments';
import { PaymentsActivities } from '../../src/services/payments/contract';
import { lateRefundRetry } from '../../src/services/payments/late-charge';
import * as paymentsRepository from '../../src/services/payments/repository';
import { readPayment } from '../../src/services/payments/repository';
import { simulatedGateway as gateway } from '../../src/services/payments/simulated-gateway';
import { gatewayTotals } from '../support/gateway-ledger';
import { asCustomer, asOperator } from '../support/principals';
import { startSagaApp, type SagaApp } from '../support/saga-app';
import { invocation, newOrder } from './helpers';

let app: SagaApp;
beforeAll(async () => {
  app = await startSagaApp();
});
afterAll(async () => {
  await app?.stop();
});
afterEach(() => {
  jest.restoreAllMocks();
});

interface LateChargeRow {
  orderId: string;
  chargeId: string;
  amount: number;
  currency: string;
}

const listed = async (orderId: string) =>
  (
    (await app.http('GET', '/api/operations/payments/late-charges', { headers: asOperator() })).json as {
      lateCharges: LateChargeRow[];
    }
  ).lateCharges.filter((row) => row.orderId === orderId);
const refundRoute = (orderId: string, headers: Record<string, string> = asOperator()) =>
  app.http('POST', `/api/operations/payments/late-charges/${orderId}/refund`, { headers });

/**
 * A charge that reaches the gateway after its order's refund left the voided payment, and whose
 * own refund then fails past its retries: the state the routes exist for.
 */
async function pendingLateCharge(amount: number): Promise<ChargePayment> {
  const command: ChargePayment = { ...newOrder('late'), amount, currency: 'EUR', paymentToken: 'tok_visa' };
  const realCharge = gateway.charge.bind(gateway);
  jest.spyOn(gateway, 'charge').mockImplementationOnce(async (request) => {
    await paymentsActivities.refundPayment(
      { orderId: command.orderId, correlationId: command.correlationId },
      invocation(PaymentsActivities.refund),
    );
    return realCharge(request);
  });
  jest.spyOn(lateRefundRetry, 'wait').mockResolvedValue(undefined);
  const down = jest.spyOn(gateway, 'refund').mockRejectedValue(new TransientError('payment gateway timed out'));
  await expect(paymentsActivities.chargePayment(command, invocation(PaymentsActivities.charge))).rejects.toBeInstanceOf(
    TransientError,
  );
  down.mockRestore();
  return command;
}

it('lists a late charge whose refund gave up, for an operator only', async () => {
  const { orderId } = await pendingLateCharge(64);
  expect((await app.http('GET', '/api/operations/payments/late-charges')).status).toBe(401);
  expect((await app.http('GET', '/api/operations/payments/late-charges', { headers: asCustomer() })).status).toBe(403);
  expect(await listed(orderId)).toEqual([
    expect.objectContaining({ orderId, chargeId: expect.stringMatching(/^ch_/), amount: 64, currency: 'EUR' }),
  ]);
});

it('refunds it once: 503 while the gateway is down, 200 once it answers, the same 200 on a repeat, then no longer listed', async () => {
  const { orderId } = await pendingLateCharge(42);
  expect((await refundRoute(orderId, asCustomer())).status).toBe(403);

  const down = jest.spyOn(gateway, 'refund').mockRejectedValue(new TransientError('payment gateway timed out'));
  const refused = await refundRoute(orderId);
  expect(refused.status).toBe(503);
  expect(refused.headers['retry-after']).toBe('5');
  down.mockRestore();
  expect(await listed(orderId)).toHaveLength(1);

  const refunded = await refundRoute(orderId);
  expect(refunded.status).toBe(200);
  expect(refunded.json).toEqual({ orderId, refundId: expect.stringMatching(/^re_/), amount: 42, currency: 'EUR' });
  expect((await refundRoute(orderId)).json).toEqual(refunded.json);
  expect(await gatewayTotals(orderId)).toEqual({ charged: 42, refunded: 42 });
  expect(await readPayment(orderId)).toMatchObject({
    status: 'voided',
    lateCharge: { refundId: (refunded.json as { refundId: string }).refundId },
  });
  expect(await listed(orderId)).toEqual([]);
});

it('answers 404 for an order with no late charge', async () => {
  expect((await refundRoute(newOrder('none').orderId)).status).toBe(404);
});

// Last in the file: it fills the list past its page.
it('lists the oldest first, so with more pending than a page holds the ones waiting longest are on it', async () => {
  const payments = paymentsRepository.paymentsData.container('payments');
  const pending = (orderId: string, foundAt: string) => ({
    id: orderId,
    orderId,
    status: 'voided',
    voidedAt: foundAt,
    lateCharge: { paymentId: `ch_${orderId}`, amount: 1, currency: 'EUR', foundAt },
  });
  const filler = Array.from({ length: 100 }, () => newOrder('filler').orderId);
  for (let start = 0; start < filler.length; start += 20)
    await Promise.all(
      filler
        .slice(start, start + 20)
        .map((orderId) => payments.items.create(pending(orderId, '2021-06-01T00:00:00.000Z'))),
    );
  // Found first, written last.
  const oldest = newOrder('oldest').orderId;
  await payments.items.create(pending(oldest, '2020-01-01T00:00:00.000Z'));
  try {
    const rows = (
      (await app.http('GET', '/api/operations/payments/late-charges', { headers: asOperator() })).json as {
        lateCharges: (LateChargeRow & { foundAt: string })[];
      }
    ).lateCharges;
    expect(rows).toHaveLength(100);
    expect(rows[0]).toMatchObject({ orderId: oldest, foundAt: '2020-01-01T00:00:00.000Z' });
    expect(rows.map((row) => row.foundAt)).toEqual([...rows.map((row) => row.foundAt)].sort());
  } finally {
    for (const orderId of [...filler, oldest]) await payments.item(orderId, orderId).delete();
  }
});
