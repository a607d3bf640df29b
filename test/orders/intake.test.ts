/**
 * Intake: the order document is the order's identity. These hold whatever the durable backend
 * answers to a start of an existing instance id (the Durable extension overwrites a finished one),
 * because the app never relies on the backend to refuse a duplicate.
 */
import { EventType } from '../../local/engine/history';
import { bodyHash } from '../../src/services/orders/http/place-order.http';
import type { PlaceOrderInput } from '../../src/services/orders/order-view';
import { createOrder, readOrder } from '../../src/services/orders/repository';
import { factType } from '../../src/libs/events';
import { orderRequest, rejectedAddress, uniqueOrderId, type OrderRequest } from '../support/orders';
import { startSagaApp, type SagaApp } from '../support/saga-app';
import { ledgerEntries } from '../resilience/helpers';

let app: SagaApp;
beforeAll(async () => {
  app = await startSagaApp();
});
afterAll(async () => {
  await app?.stop();
});

const post = (body: OrderRequest, headers: Record<string, string> = {}) =>
  app.http('POST', '/api/orders', { body, headers });
const starts = (orderId: string) =>
  (app.status(orderId)?.history ?? []).filter((event) => event.EventType === EventType.ExecutionStarted).length;

describe('concurrent duplicates', () => {
  it('the same body posted 8 times at once: one saga, every client the same answer', async () => {
    const orderId = uniqueOrderId('same');
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        post(orderRequest({ orderId }), { 'x-correlation-id': `client-${index}` }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(202));
    const [first] = answers;
    for (const answer of answers) expect(answer.json).toEqual(first.json);
    // The correlation id every client was told is the one the saga runs with.
    const { correlationId } = first.json as { correlationId: string };
    expect((app.status(orderId)?.input as PlaceOrderInput).order.correlationId).toBe(correlationId);
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
    expect(starts(orderId)).toBe(1);
    expect((await ledgerEntries(orderId)).filter((entry) => entry.operation === 'charge')).toHaveLength(1);
  });

  it('6 different bodies under one id at once: exactly one is accepted, the others get 409', async () => {
    const orderId = uniqueOrderId('different');
    const bodies = Array.from({ length: 6 }, (_, index) => orderRequest({ orderId, customerId: `customer-${index}` }));
    const answers = await Promise.all(bodies.map((body) => post(body)));
    const accepted = answers.flatMap((answer, index) => (answer.status === 202 ? [index] : []));
    expect(accepted).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(5);
    const statusUrl = (answers[accepted[0]].json as { statusUrl: string }).statusUrl;
    for (const answer of answers) expect(answer.json).toMatchObject({ orderId, statusUrl });
    // The saga runs the accepted body, and the document says so.
    expect((app.status(orderId)?.input as PlaceOrderInput).order.customerId).toBe(`customer-${accepted[0]}`);
    expect((await readOrder(orderId))?.intake?.input.order.customerId).toBe(`customer-${accepted[0]}`);
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
    expect(starts(orderId)).toBe(1);
  });
});

describe('a crash between create and start', () => {
  const placedInput = (orderId: string, body: OrderRequest): PlaceOrderInput => ({
    order: {
      type: factType('orders', 'OrderPlaced'),
      orderId,
      correlationId: `corr-${orderId}`,
      customerId: body.customerId,
      customerEmail: body.customerEmail,
      currency: body.currency,
      items: body.items,
      paymentToken: body.payment.token,
      shippingAddress: body.shippingAddress,
      placedAt: new Date().toISOString(),
    },
    policy: { approvalThreshold: 1000, approvalTimeoutMs: 3_600_000 },
  });

  it('a retry of the same body starts the saga that never started, with the stored input', async () => {
    const orderId = uniqueOrderId('crashed');
    const body = orderRequest({ orderId });
    // As if the first request created the document and died before starting the saga, a minute ago.
    await createOrder(placedInput(orderId, body), bodyHash(body), new Date(Date.now() - 60_000));
    expect(app.status(orderId)).toBeUndefined();
    expect((await app.http('GET', `/api/orders/${orderId}`)).json).toMatchObject({ status: 'Accepted' });
    const retry = await post(body, { 'x-correlation-id': 'the-retry' });
    expect(retry.status).toBe(202);
    expect(retry.json).toMatchObject({ orderId, correlationId: `corr-${orderId}` });
    expect((app.status(orderId)?.input as PlaceOrderInput).order.correlationId).toBe(`corr-${orderId}`);
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
  });

  it('a retry right after the create waits for the creator to start the saga, then starts it itself: 202 only once it runs', async () => {
    const orderId = uniqueOrderId('starting');
    const body = orderRequest({ orderId });
    // Created 4.5 s ago by a request that then died: the retry waits out the last half second of the grace.
    await createOrder(placedInput(orderId, body), bodyHash(body), new Date(Date.now() - 4_500));
    const retry = await post(body);
    expect(retry.status).toBe(202);
    expect(app.status(orderId)).toBeDefined();
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
    expect(starts(orderId)).toBe(1);
  });
});

describe('nothing reopens a finished order', () => {
  const purge = async (orderId: string) =>
    expect((await app.http('DELETE', `/runtime/webhooks/durabletask/instances/${orderId}`)).status).toBe(200);

  it('a Completed order, purged, then posted again: the document answers, no second charge', async () => {
    const orderId = uniqueOrderId('purged');
    const first = await post(orderRequest({ orderId }));
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
    await purge(orderId);
    const again = await post(orderRequest({ orderId }));
    expect(again.status).toBe(202);
    expect(again.json).toEqual(first.json);
    expect((await post(orderRequest({ orderId, items: [{ sku: 'USB-C-DOCK', quantity: 1 }] }))).status).toBe(409);
    await app.settle({ fastForward: true });
    expect(app.status(orderId)).toBeUndefined();
    expect((await app.http('GET', `/api/orders/${orderId}`)).json).toMatchObject({ status: 'Completed', total: 159 });
    expect((await ledgerEntries(orderId)).filter((entry) => entry.operation === 'charge')).toHaveLength(1);
  });

  it('a Compensated order, purged, then posted again stays Compensated: no saga runs again, no second charge', async () => {
    const orderId = uniqueOrderId('undone');
    const body = orderRequest({ orderId, shippingAddress: rejectedAddress });
    await post(body);
    expect((await app.settleOrder(orderId)).status).toBe('Compensated');
    await purge(orderId);
    expect((await post(body)).status).toBe(202);
    await app.settle({ fastForward: true });
    expect(app.status(orderId)).toBeUndefined();
    const list = (await app.http('GET', '/api/orders?limit=100')).json as {
      orders: { orderId: string; status: string }[];
    };
    expect(list.orders.find((entry) => entry.orderId === orderId)?.status).toBe('Compensated');
    expect((await app.http('GET', `/api/orders/${orderId}`)).json).toMatchObject({ status: 'Compensated' });
    const ledger = await ledgerEntries(orderId);
    expect(ledger.map((entry) => entry.operation).sort()).toEqual(['charge', 'refund']);
  });
});
