/**
 * One choreographed reaction, on real Azurite and the local Cosmos server: the saga publishes
 * how an order ended to the order-events queue, and the loyalty context reacts on its own
 * through its queue trigger, run by the engine as the Functions host runs it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { QueueClient } from '@azure/storage-queue';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { factType, ORDER_EVENTS_QUEUE, type OrderOutcome } from '../../src/libs/events';
import { decodeMessage, encodeMessage, queueClient } from '../../src/libs/storage-queues';
import { poisonQueueOf } from '../../src/services/loyalty/contract';
import { customerLedger } from '../../src/services/loyalty/repository';
import { orderRequest, rejectedAddress, uniqueOrderId } from '../support/orders';
import { queueDown } from '../support/outages';
import { asCustomer, asOperator } from '../support/principals';
import { startSagaApp, type SagaApp } from '../support/saga-app';

let app: SagaApp;

beforeAll(async () => {
  app = await startSagaApp();
});
afterAll(async () => {
  await app?.stop();
});

const events = () => queueClient(ORDER_EVENTS_QUEUE);

async function waitingFacts(): Promise<OrderOutcome[]> {
  const { peekedMessageItems } = await events().peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems.map((item) => decodeMessage<OrderOutcome>(item.messageText));
}

async function placeAndSettle(overrides: Parameters<typeof orderRequest>[0]) {
  const orderId = uniqueOrderId('loyal');
  const customerId = `cust-${orderId}`;
  const placed = await app.http('POST', '/api/orders', {
    body: orderRequest({ orderId, customerId, ...overrides }),
    headers: { 'x-correlation-id': `corr-${orderId}` },
  });
  expect(placed.status).toBe(202);
  const view = await app.settleOrder(orderId);
  return { orderId, customerId, view };
}

it('a completed order publishes OrderCompleted.v1 with its correlation id; loyalty then awards one point per unit', async () => {
  const { orderId, customerId, view } = await placeAndSettle({});
  expect(view.status).toBe('Completed');
  const published = (await waitingFacts()).filter((fact) => fact.orderId === orderId);
  expect(published).toEqual([
    expect.objectContaining({
      type: factType('orders', 'OrderCompleted'),
      orderId,
      customerId,
      correlationId: `corr-${orderId}`,
      total: view.total,
    }),
  ]);
  // Nothing has consumed it yet: the saga finished without the consumer.
  expect((await customerLedger(customerId)).points).toBe(0);

  const run = await app.queues.drain();
  expect(run.succeeded).toBeGreaterThanOrEqual(1);
  const ledger = await customerLedger(customerId);
  expect(ledger.points).toBe(Math.floor(view.total!));
  expect(ledger.entries).toEqual([
    expect.objectContaining({ orderId, why: 'order completed', correlationId: `corr-${orderId}` }),
  ]);
  expect((await waitingFacts()).filter((fact) => fact.orderId === orderId)).toEqual([]);
});

it('at-least-once delivery is harmless: the same fact delivered three times awards points once', async () => {
  const { orderId, customerId, view } = await placeAndSettle({});
  const [fact] = (await waitingFacts()).filter((candidate) => candidate.orderId === orderId);
  // Two more copies, as a redelivery (or a re-run publish activity) would leave them.
  await events().sendMessage(encodeMessage(fact));
  await events().sendMessage(encodeMessage(fact));
  const run = await app.queues.drain();
  expect(run.succeeded).toBeGreaterThanOrEqual(3);
  const ledger = await customerLedger(customerId);
  expect(ledger.entries).toHaveLength(1);
  expect(ledger.points).toBe(Math.floor(view.total!));
});

it('an order undone after payment publishes OrderCancelled.v1 and earns a goodwill gesture; a declined card earns nothing', async () => {
  const undone = await placeAndSettle({ shippingAddress: rejectedAddress });
  const declined = await placeAndSettle({ payment: { token: 'tok_declined' } });
  expect([undone.view.status, declined.view.status]).toEqual(['Compensated', 'Rejected']);
  const facts = (await waitingFacts()).filter((fact) => [undone.orderId, declined.orderId].includes(fact.orderId));
  expect(facts).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        type: factType('orders', 'OrderCancelled'),
        orderId: undone.orderId,
        finalStatus: 'Compensated',
      }),
      expect.objectContaining({
        type: factType('orders', 'OrderCancelled'),
        orderId: declined.orderId,
        finalStatus: 'Rejected',
      }),
    ]),
  );
  await app.queues.drain();
  expect(await customerLedger(undone.customerId)).toMatchObject({
    points: 25,
    entries: [{ why: 'goodwill: order cancelled after payment' }],
  });
  expect(await customerLedger(declined.customerId)).toEqual({ points: 0, entries: [] });
});

it('a poison message is tried maxDequeueCount times, then waits on order-events-poison, where an operator sees it', async () => {
  await events().sendMessage(encodeMessage({ type: 'contoso.orders.OrderShipped.v9', orderId: 'not-a-fact' }));
  const run = await app.queues.drain();
  expect(run).toMatchObject({ failed: 5, poisoned: 1 });
  // An operator's route: no principal is a 401, a principal without the role a 403.
  expect((await app.http('GET', '/api/operations/loyalty/poison')).status).toBe(401);
  expect((await app.http('GET', '/api/operations/loyalty/poison', { headers: asCustomer() })).status).toBe(403);
  const seen = await app.http('GET', '/api/operations/loyalty/poison', { headers: asOperator() });
  expect(seen.status).toBe(200);
  expect(seen.json).toMatchObject({
    queue: poisonQueueOf(ORDER_EVENTS_QUEUE),
    messages: [{ body: { type: 'contoso.orders.OrderShipped.v9', orderId: 'not-a-fact' } }],
  });
  expect((await events().getProperties()).approximateMessagesCount).toBe(0);
});

it('an operator redrives the poisoned facts once the cause is fixed: the points are awarded once, what is no fact stays', async () => {
  const orderId = uniqueOrderId('redriven');
  const customerId = `cust-${orderId}`;
  const fact: OrderOutcome = {
    type: factType('orders', 'OrderCompleted'),
    orderId,
    correlationId: `corr-${orderId}`,
    customerId,
    total: 42.5,
    currency: 'EUR',
    completedAt: new Date().toISOString(),
  };
  // As if the reaction had failed on it five times during a database outage, and twice at that.
  const poison = queueClient(poisonQueueOf(ORDER_EVENTS_QUEUE));
  await poison.createIfNotExists();
  await poison.sendMessage(encodeMessage(fact));
  await poison.sendMessage(encodeMessage(fact));
  const redrive = (headers?: Record<string, string>) =>
    app.http('POST', '/api/operations/loyalty/poison/redrive', { ...(headers ? { headers } : {}) });
  expect((await redrive()).status).toBe(401);
  expect((await redrive(asCustomer())).status).toBe(403);

  const first = await redrive(asOperator());
  expect(first.status).toBe(200);
  // The malformed message the test above poisoned is kept: it would only fail again.
  expect(first.json).toMatchObject({ redriven: 2, kept: 1, remaining: 0 });
  await app.queues.drain();
  expect(await customerLedger(customerId)).toMatchObject({ points: 42, entries: [{ orderId }] });
  const left = await app.http('GET', '/api/operations/loyalty/poison', { headers: asOperator() });
  expect(left.json).toMatchObject({ messages: [{ body: { orderId: 'not-a-fact' } }] });
  expect((await redrive(asOperator())).json).toMatchObject({ redriven: 0, kept: 1 });
});

it('a redrive reaches past more kept messages than one batch holds, and leaves them for the operator to read', async () => {
  const orderId = uniqueOrderId('behind-junk');
  const customerId = `cust-${orderId}`;
  const poison = queueClient(poisonQueueOf(ORDER_EVENTS_QUEUE));
  await poison.clearMessages();
  for (let index = 0; index < 40; index += 1)
    await poison.sendMessage(encodeMessage({ type: 'contoso.orders.OrderShipped.v9', orderId: `junk-${index}` }));
  await poison.sendMessage(
    encodeMessage({
      type: factType('orders', 'OrderCompleted'),
      orderId,
      correlationId: `corr-${orderId}`,
      customerId,
      total: 7,
      currency: 'EUR',
      completedAt: new Date().toISOString(),
    } satisfies OrderOutcome),
  );
  const redriven = await app.http('POST', '/api/operations/loyalty/poison/redrive', { headers: asOperator() });
  expect(redriven.json).toMatchObject({ redriven: 1, kept: 40, remaining: 0 });
  await app.queues.drain();
  expect((await customerLedger(customerId)).points).toBe(7);
  // Visible again at once, not hidden for the length of the call's lease.
  expect((await poison.peekMessages({ numberOfMessages: 32 })).peekedMessageItems).toHaveLength(32);
});

it('a slow redrive starts no batch after half its lease, so every message it keeps is released while still leased', async () => {
  const poison = queueClient(poisonQueueOf(ORDER_EVENTS_QUEUE));
  await poison.clearMessages();
  for (let index = 0; index < 40; index += 1)
    await poison.sendMessage(encodeMessage({ type: 'contoso.orders.OrderShipped.v9', orderId: `slow-${index}` }));
  // The first batch takes 31 s, as far as the route can tell.
  const now = performance.now.bind(performance);
  let elapsed = 0;
  const receiveMessages = QueueClient.prototype.receiveMessages;
  jest.spyOn(QueueClient.prototype, 'receiveMessages').mockImplementation(async function (this: QueueClient, ...args) {
    const answer = await receiveMessages.apply(this, args);
    elapsed += 31_000;
    return answer;
  });
  jest.spyOn(performance, 'now').mockImplementation(() => now() + elapsed);
  try {
    const call = await app.http('POST', '/api/operations/loyalty/poison/redrive', { headers: asOperator() });
    expect(call.json).toMatchObject({ redriven: 0, kept: 32, remaining: 8 });
  } finally {
    jest.restoreAllMocks();
  }
  expect((await poison.peekMessages({ numberOfMessages: 32 })).peekedMessageItems).toHaveLength(32);
});

it('a redrive whose kept messages cannot be released (their lease ran out) still answers what it did', async () => {
  const poison = queueClient(poisonQueueOf(ORDER_EVENTS_QUEUE));
  await poison.clearMessages();
  await poison.sendMessage(encodeMessage({ type: 'contoso.orders.OrderShipped.v9', orderId: 'stale-receipt' }));
  jest
    .spyOn(QueueClient.prototype, 'updateMessage')
    .mockRejectedValue(Object.assign(new Error('The specified message does not exist.'), { statusCode: 404 }));
  try {
    const call = await app.http('POST', '/api/operations/loyalty/poison/redrive', { headers: asOperator() });
    expect(call.status).toBe(200);
    expect(call.json).toMatchObject({ redriven: 0, kept: 1 });
  } finally {
    jest.restoreAllMocks();
  }
});

it('the customer sees the points over HTTP', async () => {
  const { customerId, view } = await placeAndSettle({});
  await app.queues.drain();
  const response = await app.http('GET', `/api/loyalty/${customerId}`);
  expect(response.status).toBe(200);
  expect(response.json).toMatchObject({ customerId, points: Math.floor(view.total!) });
});

it('any customer id an order was placed with reads its points; one no order could carry is a 400', async () => {
  for (const customerId of ['ada+shop@example.com', 'Ada Lovelace', 'müller']) {
    const orderId = uniqueOrderId('loyal-id');
    const placed = await app.http('POST', '/api/orders', { body: orderRequest({ orderId, customerId }) });
    expect(placed.status).toBe(202);
    const view = await app.settleOrder(orderId);
    await app.queues.drain();
    const response = await app.http('GET', `/api/loyalty/${encodeURIComponent(customerId)}`);
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ customerId, points: Math.floor(view.total!) });
  }
  for (const customerId of ['x'.repeat(65), ' padded ', 'a/b']) {
    const response = await app.http('GET', `/api/loyalty/${encodeURIComponent(customerId)}`);
    expect(response.status).toBe(400);
  }
});

describe('a dependency down: 503 with Retry-After, never a bare 500', () => {
  const unavailable = { status: 503, json: { message: expect.stringMatching(/unavailable/) } };

  it('GET /api/loyalty/{customerId} while the loyalty database refuses connections', async () => {
    // A port that was just free and is closed again: connections to it are refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    process.env.COSMOS_ENDPOINT_LOYALTY = `http://127.0.0.1:${port}`;
    try {
      const response = await app.http('GET', '/api/loyalty/ada');
      expect(response).toMatchObject(unavailable);
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      delete process.env.COSMOS_ENDPOINT_LOYALTY;
    }
    expect((await app.http('GET', '/api/loyalty/ada')).status).toBe(200);
  });

  it.each([
    ['GET', '/api/operations/loyalty/poison'],
    ['POST', '/api/operations/loyalty/poison/redrive'],
  ] as const)('%s %s while the poison queue is down', async (method, path) => {
    const down = queueDown(poisonQueueOf(ORDER_EVENTS_QUEUE));
    try {
      const response = await app.http(method, path, { headers: asOperator() });
      expect(response).toMatchObject(unavailable);
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      down.mockRestore();
    }
    expect((await app.http(method, path, { headers: asOperator() })).status).toBe(200);
  });
});

describe('the saga knows nothing of the consumer', () => {
  const servicesDir = join(__dirname, '../../src/services');
  const sourcesOf = (context: string) =>
    readdirSync(join(servicesDir, context), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(join(servicesDir, context, file), 'utf8'));

  it('no other context imports or names the loyalty context', () => {
    for (const context of readdirSync(servicesDir).filter((name) => name !== 'loyalty')) {
      for (const source of sourcesOf(context)) expect(source).not.toMatch(/loyalty/i);
    }
  });

  it('with no consumer running, orders still complete and their facts simply wait on the queue', async () => {
    const { orderId, view } = await placeAndSettle({});
    expect(view.status).toBe('Completed');
    expect(view.warnings).toEqual([]);
    expect((await waitingFacts()).map((fact) => fact.orderId)).toContain(orderId);
    await app.queues.drain();
  });
});
