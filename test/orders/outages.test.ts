/**
 * The orders database down (its endpoint refuses connections; the other contexts keep theirs):
 * nothing is accepted that could not be recorded, reads answer from the saga or with a 503, and
 * a dead letter is still sent, once. And what fails after an order's final status (the stock
 * commit, the dead-letter queue, the announcement) stays on the order once its saga is gone.
 */
import { createServer } from 'node:net';
import { TransientError } from '../../src/libs/errors';
import * as storageQueues from '../../src/libs/storage-queues';
import { decodeMessage, encodeMessage, queueClient } from '../../src/libs/storage-queues';
import * as holds from '../../src/services/inventory/holds';
import * as deadLetters from '../../src/services/orders/dead-letters';
import type { DeadLetter } from '../../src/services/orders/dead-letters';
import type { OrderView } from '../../src/services/orders/order-view';
import * as ordersRepository from '../../src/services/orders/repository';
import { readOrder } from '../../src/services/orders/repository';
import { orderRequest, rejectedAddress, uniqueOrderId } from '../support/orders';
import { startSagaApp, type SagaApp } from '../support/saga-app';
import { placeAnnouncingOrder, queueDown } from '../support/outages';
import { asOperator } from '../support/principals';

let app: SagaApp;
const realRecordDeadLetter = deadLetters.recordDeadLetter;
let closedPort: number;
beforeAll(async () => {
  app = await startSagaApp();
  // A port that was just free and is closed again: connections to it are refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
});
afterAll(async () => {
  delete process.env.COSMOS_ENDPOINT_ORDERS;
  await app?.stop();
});

const ordersDatabaseDown = () => {
  process.env.COSMOS_ENDPOINT_ORDERS = `http://127.0.0.1:${closedPort}`;
};
const ordersDatabaseBack = () => {
  delete process.env.COSMOS_ENDPOINT_ORDERS;
};

async function lettersFor(orderId: string): Promise<DeadLetter[]> {
  const { peekedMessageItems } = await queueClient('order-dead-letters').peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems
    .map((item) => decodeMessage<DeadLetter>(item.messageText))
    .filter((letter) => letter.orderId === orderId);
}

it('POST answers 503 with Retry-After and a JSON error, and starts nothing', async () => {
  const orderId = uniqueOrderId('down');
  ordersDatabaseDown();
  try {
    const response = await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
    expect(response.status).toBe(503);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json).toEqual({ message: expect.stringMatching(/unavailable/) });
    expect(app.status(orderId)).toBeUndefined();
  } finally {
    ordersDatabaseBack();
  }
  // Once it is back, the same request is an ordinary new order.
  expect((await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) })).status).toBe(202);
  expect((await app.settleOrder(orderId)).status).toBe('Completed');
});

it('GET answers from the saga while the document cannot be read, and 503 JSON when only the document could tell', async () => {
  const orderId = uniqueOrderId('read');
  await app.http('POST', '/api/orders', {
    body: orderRequest({ orderId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
  });
  await app.waitForOrderStatus(orderId, 'AwaitingApproval');
  ordersDatabaseDown();
  try {
    const live = await app.http('GET', `/api/orders/${orderId}`);
    expect(live.status).toBe(200);
    expect(live.json).toMatchObject({ orderId, status: 'AwaitingApproval' });
    const unknown = await app.http('GET', `/api/orders/${uniqueOrderId('nobody')}`);
    expect(unknown.status).toBe(503);
    expect(unknown.headers['retry-after']).toBeDefined();
    expect(unknown.json).toEqual({ message: expect.any(String) });
    const list = await app.http('GET', '/api/orders');
    expect(list.status).toBe(503);
    expect(list.json).toEqual({ message: expect.any(String) });
  } finally {
    ordersDatabaseBack();
  }
});

it('the timeline answers 503 with Retry-After, not a bare 500, while the order document cannot be read', async () => {
  const orderId = uniqueOrderId('timeline-down');
  await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
  await app.settleOrder(orderId);
  ordersDatabaseDown();
  try {
    const response = await app.http('GET', `/api/orders/${orderId}/timeline`);
    expect(response.status).toBe(503);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(response.json).toEqual({ message: expect.stringMatching(/unavailable/) });
  } finally {
    ordersDatabaseBack();
  }
  expect((await app.http('GET', `/api/orders/${orderId}/timeline`)).status).toBe(200);
});

it('a poll of a running saga costs no read of the order document; once the saga has ended, GET reads it', async () => {
  const orderId = uniqueOrderId('poll');
  await app.http('POST', '/api/orders', {
    body: orderRequest({ orderId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
  });
  await app.waitForOrderStatus(orderId, 'AwaitingApproval');
  const reads = jest.spyOn(ordersRepository, 'readOrder');
  try {
    const running = await app.http('GET', `/api/orders/${orderId}`);
    expect(running.json).toMatchObject({ orderId, status: 'AwaitingApproval' });
    expect(reads).not.toHaveBeenCalled();
    await app.settle({ fastForward: true });
    const ended = await app.http('GET', `/api/orders/${orderId}`);
    expect(ended.json).toMatchObject({ orderId, status: 'Rejected' });
    expect(reads).toHaveBeenCalledWith(orderId);
  } finally {
    reads.mockRestore();
  }
});

it('a Completed order is answered from the saga alone: no read of the order document', async () => {
  const orderId = uniqueOrderId('poll-done');
  await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
  expect((await app.settleOrder(orderId)).status).toBe('Completed');
  const reads = jest.spyOn(ordersRepository, 'readOrder');
  try {
    const done = await app.http('GET', `/api/orders/${orderId}`);
    expect(done.json).toMatchObject({ orderId, status: 'Completed', steps: expect.any(Array) });
    expect(done.headers['retry-after']).toBeUndefined();
    expect(reads).not.toHaveBeenCalled();
  } finally {
    reads.mockRestore();
  }
});

it('a Completed order whose saga still announces it keeps Retry-After, so a poller reads the warning that follows', async () => {
  const orderId = uniqueOrderId('poll-announcing');
  // The order-events queue is down: the saga has published Completed and retries its announcement.
  const publish = await placeAnnouncingOrder(app, orderId);
  try {
    const announcing = await app.http('GET', `/api/orders/${orderId}`);
    expect(announcing.json).toMatchObject({ orderId, status: 'Completed', warnings: [] });
    expect(Number(announcing.headers['retry-after'])).toBeGreaterThan(0);
    // The announcement gives up after its retries: the warning comes after the final status.
    await app.settle({ fastForward: true });
  } finally {
    publish.mockRestore();
  }
  expect(app.status(orderId)?.runtimeStatus).toBe('Completed');
  const done = await app.http('GET', `/api/orders/${orderId}`);
  expect((done.json as OrderView).warnings).toEqual([expect.stringMatching(/^order outcome not published: /)]);
  expect(done.headers['retry-after']).toBeUndefined();
  // The order document has the warning too, so it outlives the instance.
  expect((await readOrder(orderId))?.warnings).toEqual((done.json as OrderView).warnings);
});

describe('warnings the saga adds after the final status are on the order document, and outlive the instance', () => {
  /** Runs the order to its end, purges its instance, and answers what GET and the document say. */
  async function endedAndPurged(orderId: string) {
    await app.settle({ fastForward: true });
    expect(app.status(orderId)?.runtimeStatus).toBe('Completed');
    const live = (await app.http('GET', `/api/orders/${orderId}`)).json as OrderView;
    expect(app.engine.purge(orderId)).toBe(true);
    const purged = await app.http('GET', `/api/orders/${orderId}`);
    expect(purged.status).toBe(200);
    return { live, purged: purged.json as OrderView, stored: (await readOrder(orderId))! };
  }

  it('a Completed order whose stock commit failed says so', async () => {
    const orderId = uniqueOrderId('commit-fails');
    const commit = jest.spyOn(holds, 'commitHold').mockRejectedValue(new TransientError('inventory down'));
    try {
      await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
      const { live, purged, stored } = await endedAndPurged(orderId);
      expect(commit).toHaveBeenCalled();
      const warnings = [expect.stringMatching(/^commit stock: .*inventory down/)];
      expect(live).toMatchObject({ status: 'Completed', warnings });
      expect(purged).toMatchObject({ status: 'Completed', warnings });
      expect(stored).toMatchObject({ status: 'Completed', warnings });
    } finally {
      commit.mockRestore();
    }
  });

  it('a CompensationFailed order whose dead letter could not be sent says so', async () => {
    const orderId = uniqueOrderId('letter-lost');
    const letters = queueDown('order-dead-letters');
    try {
      await app.http('POST', '/api/orders', {
        body: orderRequest({
          orderId,
          payment: { token: 'tok_refund_fails' },
          shippingAddress: rejectedAddress,
        }),
      });
      const { live, purged, stored } = await endedAndPurged(orderId);
      const warnings = [expect.stringMatching(/^dead letter not sent: /)];
      expect(live).toMatchObject({ status: 'CompensationFailed', warnings });
      expect(purged).toMatchObject({ status: 'CompensationFailed', warnings });
      expect(stored).toMatchObject({ status: 'CompensationFailed', warnings, deadLetter: { state: 'claimed' } });
    } finally {
      letters.mockRestore();
    }
    expect(await lettersFor(orderId)).toEqual([]);
  });
});

/**
 * Counts the dead-letter activity's looks at its queue (each run looks once before it sends):
 * `onLook(n)` runs before the n-th. Returns the spy.
 */
function onDeadLetterLook(onLook: (look: number) => void) {
  const realQueueClient = storageQueues.queueClient;
  let looks = 0;
  return jest.spyOn(storageQueues, 'queueClient').mockImplementation((name) => {
    const real = realQueueClient(name);
    if (name !== 'order-dead-letters') return real;
    return new Proxy(real, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property !== 'peekMessages' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          looks += 1;
          onLook(looks);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  });
}

/** Its shipping fails and its refund never goes through: it ends CompensationFailed. */
const failingToUndo = (orderId: string) =>
  orderRequest({ orderId, payment: { token: 'tok_refund_fails' }, shippingAddress: rejectedAddress });

/** The order's message on the queue (among the first 32). */
async function queuedFor(orderId: string) {
  const { peekedMessageItems } = await queueClient('order-dead-letters').peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems.find((item) => decodeMessage<DeadLetter>(item.messageText).orderId === orderId)!;
}

it('a CompensationFailed order is dead-lettered though its document cannot be written, and the letter is recorded once the database is back', async () => {
  const orderId = uniqueOrderId('letter');
  await app.http('POST', '/api/orders', { body: failingToUndo(orderId) });
  await app.waitForOrderStatus(orderId, 'Compensating');
  ordersDatabaseDown();
  // The dead-letter activity sends once and cannot record; the outage ends while the record
  // (never the send) waits for its first retry.
  const records = jest.spyOn(deadLetters, 'recordDeadLetter');
  records.mockImplementation((...args) => {
    if (records.mock.calls.length === 2) ordersDatabaseBack();
    return realRecordDeadLetter(...args);
  });
  let peeks = 0;
  const looks = onDeadLetterLook((look) => {
    peeks = look;
  });
  try {
    await app.settle({ fastForward: true });
    // One look and one send; the record alone was tried again.
    expect(peeks).toBe(1);
    expect(records).toHaveBeenCalledTimes(2);
  } finally {
    looks.mockRestore();
    records.mockRestore();
    ordersDatabaseBack();
  }
  const letters = await lettersFor(orderId);
  expect(letters).toHaveLength(1);
  const queued = await queuedFor(orderId);
  // The document holds the letter and the final status (the saga's late write, its final write having failed).
  const stored = (await readOrder(orderId))!;
  expect(stored).toMatchObject({
    status: 'CompensationFailed',
    deadLetter: { state: 'sent', messageId: queued.messageId },
  });
  expect(stored.warnings).toContainEqual(expect.stringMatching(/^order document not updated to CompensationFailed: /));
  expect(stored.warnings.filter((warning) => warning.startsWith('dead letter not'))).toEqual([]);
  const view = await app.http('GET', `/api/orders/${orderId}`);
  expect(view.json).toMatchObject({ status: 'CompensationFailed', warnings: stored.warnings });
  expect(app.status(orderId)?.customStatus).not.toHaveProperty('unrecordedDeadLetter');
  // So an operator can retry it.
  const retry = await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() });
  expect(retry.status).toBe(202);
  await app.settle({ fastForward: true });
  expect(await lettersFor(orderId)).toHaveLength(1);
});

/**
 * Runs the order into CompensationFailed with the orders database down from Compensating until
 * every retry is spent, and brings it back. Answers the saga's final view (its custom status).
 */
async function endedWhileDatabaseDown(orderId: string): Promise<OrderView> {
  ordersDatabaseDown();
  try {
    await app.settle({ fastForward: true });
    expect(app.status(orderId)?.runtimeStatus).toBe('Completed');
    const answered = await app.http('GET', `/api/orders/${orderId}`);
    expect(answered.status).toBe(200);
    expect(answered.json).toMatchObject({ status: 'CompensationFailed' });
    return app.status(orderId)!.customStatus as OrderView;
  } finally {
    ordersDatabaseBack();
  }
}

it('a dead letter whose document stays down past every retry is still sent exactly once, and the retry route records it once the database is back', async () => {
  const orderId = uniqueOrderId('letter-down');
  await app.http('POST', '/api/orders', { body: failingToUndo(orderId) });
  await app.waitForOrderStatus(orderId, 'Compensating');
  const view = await endedWhileDatabaseDown(orderId);
  const queued = await queuedFor(orderId);
  expect(view).toMatchObject({ status: 'CompensationFailed', unrecordedDeadLetter: { messageId: queued.messageId } });
  expect(view.warnings).toContainEqual(
    expect.stringMatching(
      new RegExp(
        `^dead letter not recorded on the order \\(message ${queued.messageId}; the operator's retry records it\\)`,
      ),
    ),
  );
  expect(await lettersFor(orderId)).toHaveLength(1);
  // Once the database is back, the operator's retry finds the saga's ending unrecorded and records
  // it (the message the saga's view names, not sent again), then starts the repair.
  const before = await readOrder(orderId);
  expect(before?.status).toBe('Compensating');
  expect(before?.deadLetter).toBeUndefined();
  const retry = await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() });
  expect(retry.status).toBe(202);
  expect(retry.json).toMatchObject({ retrying: ['refundPayment'] });
  expect((await lettersFor(orderId)).map((letter) => letter.failed.map((entry) => entry.name))).toEqual([
    ['refundPayment'],
  ]);
  expect(await readOrder(orderId)).toMatchObject({
    status: 'CompensationFailed',
    deadLetter: { state: 'sent', messageId: queued.messageId },
  });
  expect((await app.http('GET', `/api/orders/${orderId}`)).json).toMatchObject({ status: 'CompensationFailed' });
  await app.settle({ fastForward: true });
  expect(await lettersFor(orderId)).toHaveLength(1);
  expect((await readOrder(orderId))?.deadLetter?.repairs).toBe(1);
});

it('with 32 letters ahead of it on the queue (more than one look sees), an order sent while its document is down still gets one letter, through the saga and the retry route', async () => {
  const orderId = uniqueOrderId('letter-behind');
  await app.http('POST', '/api/orders', { body: failingToUndo(orderId) });
  await app.waitForOrderStatus(orderId, 'Compensating');
  // A wide outage: 32 other orders were dead-lettered before this one.
  const queue = queueClient('order-dead-letters');
  const ahead = [];
  for (let index = 0; index < 32; index += 1) {
    const other = uniqueOrderId(`ahead-${index}`);
    const letter: DeadLetter = {
      orderId: other,
      correlationId: `corr-${other}`,
      reason: 'refund failed',
      failed: [{ name: 'refundPayment', activity: 'refundPayment', input: { orderId: other }, error: 'down' }],
      deadLetteredAt: new Date().toISOString(),
    };
    ahead.push(await queue.sendMessage(encodeMessage(letter)));
  }
  try {
    const view = await endedWhileDatabaseDown(orderId);
    expect(view).toMatchObject({
      status: 'CompensationFailed',
      unrecordedDeadLetter: { messageId: expect.any(String) },
    });
    const retry = await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() });
    expect(retry.status).toBe(202);
    await app.settle({ fastForward: true });
    expect((await readOrder(orderId))?.deadLetter).toMatchObject({
      state: 'sent',
      messageId: view.unrecordedDeadLetter!.messageId,
      repairs: 1,
    });
  } finally {
    for (const { messageId, popReceipt } of ahead) await queue.deleteMessage(messageId, popReceipt);
  }
  // With the letters ahead gone, every copy of this order's letter is within one look.
  const letters = await lettersFor(orderId);
  expect(letters).toHaveLength(1);
  expect((await queuedFor(orderId)).messageId).toBe((await readOrder(orderId))?.deadLetter?.messageId);
});

it("a letter recorded while the final status was not (both of the saga's last writes failed) is still retryable: the route records the ending", async () => {
  const orderId = uniqueOrderId('letter-status');
  await app.http('POST', '/api/orders', { body: failingToUndo(orderId) });
  await app.waitForOrderStatus(orderId, 'Compensating');
  // The progress writes fail (CompensationFailed and the late warnings); the dead letter's record goes through.
  const progress = jest
    .spyOn(ordersRepository, 'saveOrderProgress')
    .mockRejectedValue(new TransientError('orders database: progress writes unavailable'));
  try {
    await app.settle({ fastForward: true });
  } finally {
    progress.mockRestore();
  }
  expect(app.status(orderId)?.runtimeStatus).toBe('Completed');
  const stored = (await readOrder(orderId))!;
  expect(stored.status).not.toBe('CompensationFailed');
  expect(stored.deadLetter).toMatchObject({ state: 'sent', messageId: expect.any(String) });
  // The timeline, which reads the live view, offers the retry; the route takes it.
  const timeline = await app.http('GET', `/api/orders/${orderId}/timeline`);
  expect(timeline.json).toMatchObject({ deadLetter: { repairable: true } });
  const retry = await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() });
  expect(retry.status).toBe(202);
  expect(await readOrder(orderId)).toMatchObject({
    status: 'CompensationFailed',
    deadLetter: { state: 'sent', messageId: stored.deadLetter!.messageId },
  });
  await app.settle({ fastForward: true });
  expect(await lettersFor(orderId)).toHaveLength(1);
  expect((await readOrder(orderId))?.deadLetter?.repairs).toBe(1);
});
