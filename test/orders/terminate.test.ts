/**
 * Terminate is an operator's action: the order ends Terminated, keeps its step log, and what the
 * saga left charged, reserved or shipped goes to the dead-letter queue. Never Failed with money held.
 */
import type { DurableClient } from 'durable-functions';
import { TransientError } from '../../src/libs/errors';
import type { OrderOutcome } from '../../src/libs/events';
import { decodeMessage, queueClient } from '../../src/libs/storage-queues';
import { customerLedger } from '../../src/services/loyalty/repository';
import * as repository from '../../src/services/orders/repository';
import { lateRefundRetry } from '../../src/services/payments/late-charge';
import { readPayment } from '../../src/services/payments/repository';
import { simulatedGateway } from '../../src/services/payments/simulated-gateway';
import * as deadLetters from '../../src/services/orders/dead-letters';
import type { DeadLetter } from '../../src/services/orders/dead-letters';
import type { OrderView } from '../../src/services/orders/order-view';
import { readOrder } from '../../src/services/orders/repository';
import { commitInstanceId, repairInstanceId } from '../../src/services/orders/contract';
import * as holds from '../../src/services/inventory/holds';
import { readStock } from '../../src/services/inventory/repository';
import { readCarrierBooking } from '../../src/services/shipping/repository';
import { simulatedCarrier } from '../../src/services/shipping/simulated-carrier';
import type { OrderTimeline } from '../../src/services/orders/timeline';
import { gatewayTotals } from '../support/gateway-ledger';
import { ledgerEntries } from '../resilience/helpers';
import { orderRequest, rejectedAddress, uniqueOrderId } from '../support/orders';
import { asApprover, asOperator } from '../support/principals';
import { startSagaApp, type SagaApp } from '../support/saga-app';
import { placeAnnouncingOrder, queueDown } from '../support/outages';

// The SDK's client class (its types export it as an interface only).
type SdkModule = { DurableClient: { prototype: DurableClient } };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdkClient = (require('durable-functions/lib/src/durableClient/DurableClient') as SdkModule).DurableClient
  .prototype;

/**
 * The saga moves on between the route's look at it and the terminate landing: `meanwhile` runs
 * just before the terminate is sent. Returns the spy.
 */
function terminateLandsAfter(meanwhile: () => Promise<void>) {
  const realTerminate = sdkClient.terminate;
  return jest.spyOn(sdkClient, 'terminate').mockImplementation(async function (
    this: DurableClient,
    instanceId: string,
    reason: string,
  ) {
    await meanwhile();
    return realTerminate.call(this, instanceId, reason);
  });
}

let app: SagaApp;
/** The app's log lines (structured JSON), by function. */
const logged: { functionName: string; line: string }[] = [];
beforeAll(async () => {
  app = await startSagaApp({
    log: (_level, functionName, ...args) => logged.push({ functionName, line: args.join(' ') }),
  });
});
afterAll(async () => {
  await app?.stop();
});

const terminate = (orderId: string, headers: Record<string, string> = asOperator('olivia')) =>
  app.http('POST', `/api/operations/orders/${orderId}/terminate`, {
    body: { reason: 'customer called to cancel' },
    headers,
  });

/** An order whose shipping fails and whose refund never goes through: it stays undoing. */
const undoingOrder = (orderId: string) =>
  orderRequest({
    orderId,
    payment: { token: 'tok_refund_fails' },
    shippingAddress: rejectedAddress,
  });

/** Holds the next charge at the gateway until the returned function lets it go on. */
function holdNextCharge(): () => void {
  let letGo!: () => void;
  const held = new Promise<void>((resolve) => (letGo = resolve));
  const charge = simulatedGateway.charge.bind(simulatedGateway);
  jest.spyOn(simulatedGateway, 'charge').mockImplementationOnce(async (request) => {
    await held;
    return charge(request);
  });
  return letGo;
}

async function lettersFor(orderId: string): Promise<DeadLetter[]> {
  const { peekedMessageItems } = await queueClient('order-dead-letters').peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems
    .map((item) => decodeMessage<DeadLetter>(item.messageText))
    .filter((letter) => letter.orderId === orderId);
}

/** The facts waiting on the order-events queue for the order (nothing in this file consumes them unless asked). */
async function factsFor(orderId: string): Promise<OrderOutcome[]> {
  const { peekedMessageItems } = await queueClient('order-events').peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems
    .map((item) => decodeMessage<OrderOutcome>(item.messageText))
    .filter((fact) => fact.orderId === orderId);
}

it('logs the terminate under the order’s correlation id, not the one the operator’s request carried', async () => {
  const orderId = uniqueOrderId('stop-log');
  const placed = await app.http('POST', '/api/orders', {
    body: undoingOrder(orderId),
    headers: { 'x-correlation-id': `corr-${orderId}` },
  });
  expect(placed.status).toBe(202);
  await app.waitForOrderStatus(orderId, 'Compensating');
  await app.settle();
  const stopped = await terminate(orderId, { ...asOperator('olivia'), 'x-correlation-id': 'operators-own-request' });
  expect(stopped.status).toBe(200);
  const lines = logged
    .filter((entry) => entry.functionName === 'terminateOrderHttp' && entry.line.includes(orderId))
    .map((entry) => JSON.parse(entry.line) as { message: string; correlationId: string });
  expect(lines).toEqual([
    expect.objectContaining({ message: 'order terminated by an operator', correlationId: `corr-${orderId}` }),
  ]);
});

it('mid-compensation: Terminated, the steps kept, and the refund still owed is dead-lettered', async () => {
  const orderId = uniqueOrderId('stop-undo');
  expect((await app.http('POST', '/api/orders', { body: undoingOrder(orderId) })).status).toBe(202);
  // The refund fails and waits for its retry (virtual time does not move): the saga is undoing.
  await app.waitForOrderStatus(orderId, 'Compensating');
  // The document's Compensating write runs beside the refund's first attempt: let what is running finish.
  await app.settle();
  expect(((await app.http('GET', `/api/orders/${orderId}`)).json as OrderView).status).toBe('Compensating');
  const list = (await app.http('GET', '/api/orders?limit=100')).json as {
    orders: { orderId: string; status: string }[];
  };
  expect(list.orders.find((entry) => entry.orderId === orderId)?.status).toBe('Compensating');

  const stopped = await terminate(orderId);
  expect(stopped.status).toBe(200);
  const { deadLettered } = stopped.json as { deadLettered: string[] };
  expect(stopped.json).toEqual({
    orderId,
    status: 'Terminated',
    deadLettered: expect.arrayContaining(['refundPayment']),
  });
  expect(app.status(orderId)?.runtimeStatus).toBe('Terminated');

  const view = (await app.http('GET', `/api/orders/${orderId}`)).json as OrderView;
  // Whatever the saga undid before it stopped, and what it left to the dead letter, are every step it did (the shipment never was).
  const undone = view.compensations.filter((entry) => entry.status === 'succeeded').map((entry) => entry.name);
  expect([...undone, ...deadLettered].sort()).toEqual([
    'refundPayment',
    'releaseStock',
    'retractAnalytics',
    'sendCancellation',
  ]);
  expect(view.status).toBe('Terminated');
  expect(view.reason).toBe('terminated by olivia: customer called to cancel');
  expect(view.steps.map((step) => step.name)).toEqual(['validate', 'pay', 'reserve', 'confirm', 'analytics', 'ship']);
  expect(view.compensations.find((entry) => entry.name === 'refundPayment')).toMatchObject({
    status: 'failed',
    detail: 'not run: the saga was terminated',
  });
  // Still charged, and a person is told so: exactly one letter, with what it takes to refund.
  const ledger = await ledgerEntries(orderId);
  expect(ledger.filter((entry) => entry.operation === 'charge' && entry.status === 'charged')).toHaveLength(1);
  expect(ledger.filter((entry) => entry.status === 'refunded')).toHaveLength(0);
  const letters = await lettersFor(orderId);
  expect(letters).toHaveLength(1);
  expect(letters[0].failed.map((entry) => entry.name)).toEqual(deadLettered);
  expect(letters[0].failed.find((entry) => entry.name === 'refundPayment')).toEqual({
    name: 'refundPayment',
    activity: 'refundPayment',
    input: { orderId, correlationId: expect.any(String) },
    error: 'not run: the saga was terminated',
  });

  // A repeat does nothing twice and answers as the first call did; a re-POST of the order reopens nothing.
  expect((await terminate(orderId)).json).toEqual(stopped.json);
  expect((await app.http('POST', '/api/orders', { body: undoingOrder(orderId) })).status).toBe(202);
  await app.settle();
  expect(app.status(orderId)?.runtimeStatus).toBe('Terminated');
  expect(await lettersFor(orderId)).toHaveLength(1);
  expect((await readOrder(orderId))?.status).toBe('Terminated');
  // The operator's retry runs the refund; this card's refunds always fail, so the order stays Terminated.
  expect(
    (await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() })).status,
  ).toBe(202);
  await app.settle({ fastForward: true });
  expect((await readOrder(orderId))?.status).toBe('Terminated');
});

it('terminated while awaiting approval: Terminated, nothing charged, nothing to dead-letter', async () => {
  const orderId = uniqueOrderId('stop-approval');
  expect(
    (
      await app.http('POST', '/api/orders', {
        body: orderRequest({ orderId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
      })
    ).status,
  ).toBe(202);
  await app.waitForOrderStatus(orderId, 'AwaitingApproval');
  expect((await terminate(orderId)).json).toEqual({ orderId, status: 'Terminated', deadLettered: [] });
  expect(await lettersFor(orderId)).toHaveLength(0);
  // A repeat answers the same list (the order has no dead letter: an empty one).
  expect((await terminate(orderId)).json).toEqual({ orderId, status: 'Terminated', deadLettered: [] });
  // Nothing was charged; a decision now finds no saga waiting.
  expect(
    (await app.http('POST', `/api/orders/${orderId}/approval`, { body: { approved: true }, headers: asApprover() }))
      .status,
  ).toBe(409);
  expect(await ledgerEntries(orderId)).toEqual([]);
});

it('a terminate whose dead letter was sent but could not be recorded answers 503; the repeat records that letter, sending none again', async () => {
  const orderId = uniqueOrderId('stop-record-down');
  expect((await app.http('POST', '/api/orders', { body: undoingOrder(orderId) })).status).toBe(202);
  await app.waitForOrderStatus(orderId, 'Compensating');
  await app.settle();
  // The orders database answers the Terminated write and the claim, then fails the letter's record.
  const updateOrder = repository.updateOrder;
  let calls = 0;
  const recordFails = jest.spyOn(repository, 'updateOrder').mockImplementation(async (...args) => {
    calls += 1;
    if (calls === 3) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    return updateOrder(...args);
  });
  try {
    const failed = await terminate(orderId);
    expect(failed.status).toBe(503);
  } finally {
    recordFails.mockRestore();
  }
  expect(calls).toBe(3);
  const [sent] = await lettersFor(orderId);
  expect(await lettersFor(orderId)).toHaveLength(1);
  expect((await readOrder(orderId))?.deadLetter).toMatchObject({ state: 'claimed' });
  const again = await terminate(orderId);
  expect(again.json).toEqual({ orderId, status: 'Terminated', deadLettered: sent.failed.map((entry) => entry.name) });
  expect(await lettersFor(orderId)).toHaveLength(1);
  expect((await readOrder(orderId))?.deadLetter).toMatchObject({ state: 'sent', messageId: expect.any(String) });
});

it('a terminate whose dead letter could not be sent answers 503; the repeat sends it, once, and answers as a first call would', async () => {
  const orderId = uniqueOrderId('stop-queue-down');
  expect((await app.http('POST', '/api/orders', { body: undoingOrder(orderId) })).status).toBe(202);
  await app.waitForOrderStatus(orderId, 'Compensating');
  await app.settle();
  const letters = queueDown('order-dead-letters', ['sendMessage']);
  try {
    const failed = await terminate(orderId);
    expect(failed.status).toBe(503);
    expect(failed.headers['retry-after']).toBeDefined();
  } finally {
    letters.mockRestore();
  }
  // The order was written Terminated before the send failed: the repeat finds it so, and owes the letter still.
  expect((await readOrder(orderId))?.status).toBe('Terminated');
  expect(await lettersFor(orderId)).toHaveLength(0);
  const again = await terminate(orderId);
  expect(again.status).toBe(200);
  expect(again.json).toEqual({
    orderId,
    status: 'Terminated',
    deadLettered: expect.arrayContaining(['refundPayment']),
  });
  const sent = await lettersFor(orderId);
  expect(sent).toHaveLength(1);
  expect(sent[0].failed.map((entry) => entry.name)).toEqual((again.json as { deadLettered: string[] }).deadLettered);
  expect((await readOrder(orderId))?.deadLetter).toMatchObject({ state: 'sent', messageId: expect.any(String) });
  expect((await terminate(orderId)).json).toEqual(again.json);
  expect(await lettersFor(orderId)).toHaveLength(1);
});

it('a terminate that died between its write and the send: the repeat finds the letter claimed with the order, and sends it', async () => {
  const orderId = uniqueOrderId('stop-crash');
  expect((await app.http('POST', '/api/orders', { body: undoingOrder(orderId) })).status).toBe(202);
  await app.waitForOrderStatus(orderId, 'Compensating');
  await app.settle();
  const crash = jest.spyOn(deadLetters, 'sendDeadLetterForRoute').mockRejectedValueOnce(new Error('process died'));
  try {
    expect((await terminate(orderId)).status).toBe(500);
  } finally {
    crash.mockRestore();
  }
  expect((await readOrder(orderId))?.deadLetter).toMatchObject({ state: 'claimed', letter: { orderId } });
  const again = await terminate(orderId);
  expect(again.json).toEqual({
    orderId,
    status: 'Terminated',
    deadLettered: expect.arrayContaining(['refundPayment']),
  });
  expect(await lettersFor(orderId)).toHaveLength(1);
});

it('refuses a saga that completed while the terminate was on its way, and announces the ending it was stopped in', async () => {
  const orderId = uniqueOrderId('stop-overtaken');
  // The carrier blips once (the saga waits for its retry), and the order-events queue is down.
  const book = jest.spyOn(simulatedCarrier, 'book').mockRejectedValueOnce(new TransientError('carrier 503'));
  const publish = queueDown('order-events', ['sendMessage']);
  // Meanwhile the saga ships, completes, and fails to announce it (its retry waits): the
  // terminate stops it there. The queue is back by the time the route finishes the ending.
  const terminating = terminateLandsAfter(async () => {
    await app.advanceTime(2_000);
    await app.settle();
    publish.mockRestore();
  });
  try {
    await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
    await app.waitForOrderStatus(orderId, 'Shipping');
    await app.settle();
    expect(book).toHaveBeenCalledTimes(1);

    const refused = await terminate(orderId);
    expect(terminating).toHaveBeenCalled();
    expect(app.status(orderId)?.runtimeStatus).toBe('Terminated');
    expect((app.status(orderId)?.customStatus as OrderView).status).toBe('Completed');
    expect(refused.status).toBe(409);
    expect(refused.json).toEqual({
      orderId,
      status: 'Completed',
      message: 'the order’s saga has already ended',
      finished: {
        documentWritten: false,
        stockCommit: { instanceId: commitInstanceId(orderId), started: true },
        published: 'contoso.orders.OrderCompleted.v1',
      },
    });
  } finally {
    terminating.mockRestore();
    publish.mockRestore();
    book.mockRestore();
  }
  expect((await readOrder(orderId))?.status).toBe('Completed');
  expect(((await app.http('GET', `/api/orders/${orderId}`)).json as OrderView).status).toBe('Completed');
  expect(await lettersFor(orderId)).toHaveLength(0);
  // The saga's own announcement never went out; the route's did, once.
  expect(await factsFor(orderId)).toEqual([
    expect.objectContaining({ type: 'contoso.orders.OrderCompleted.v1', orderId, customerId: 'ada' }),
  ]);
});

it('a Completed saga stopped while its stock commit waited for a retry: the route has the stock committed, once', async () => {
  const orderId = uniqueOrderId('stop-commit');
  const book = jest.spyOn(simulatedCarrier, 'book').mockRejectedValueOnce(new TransientError('carrier 503'));
  // The commit fails while the terminate is on its way: the saga waits for a retry, which a terminate drops.
  const fold = jest.spyOn(holds, 'commitHold').mockRejectedValue(new TransientError('inventory busy'));
  const terminating = terminateLandsAfter(async () => {
    await app.advanceTime(2_000);
    await app.settle();
  });
  try {
    await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
    await app.waitForOrderStatus(orderId, 'Shipping');
    await app.settle();
    const refused = await terminate(orderId);
    expect(fold).toHaveBeenCalled();
    fold.mockRestore();
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({
      status: 'Completed',
      finished: { stockCommit: { instanceId: commitInstanceId(orderId), started: true } },
    });
    expect((await readStock('MOUSE-ERGO'))?.holds[orderId]).toBe(2);
  } finally {
    terminating.mockRestore();
    book.mockRestore();
    fold.mockRestore();
  }
  await app.settle({ fastForward: true });
  expect(app.status(commitInstanceId(orderId))?.runtimeStatus).toBe('Completed');
  const stock = await readStock('MOUSE-ERGO');
  expect(stock?.holds[orderId]).toBeUndefined();
  // A second call finds the commit done and starts nothing.
  expect((await terminate(orderId)).json).toMatchObject({ finished: { stockCommit: { started: false } } });
  await app.settle({ fastForward: true });
  expect((await readStock('MOUSE-ERGO'))?.committed).toBe(stock?.committed);
});

it('a saga stopped on its way to CompensationFailed: the route writes it, dead-letters it once and announces it', async () => {
  const orderId = uniqueOrderId('stop-failing');
  const customerId = `cust-${orderId}`;
  // The carrier rejects the address; of the undos, the refund (the last) times out once, and the
  // gateway then refuses it: the order ends CompensationFailed.
  const refund = jest
    .spyOn(simulatedGateway, 'refund')
    .mockRejectedValueOnce(new TransientError('gateway timeout'))
    .mockRejectedValue(new Error('the gateway refuses this refund'));
  // The saga's CompensationFailed write fails once (its retry waits): the document lags.
  const realSave = repository.saveOrderProgress;
  const finalWrite = jest
    .spyOn(repository, 'saveOrderProgress')
    .mockImplementation((revision, view, now) =>
      view.status === 'CompensationFailed'
        ? Promise.reject(new TransientError('orders database unavailable'))
        : realSave(revision, view, now),
    );
  // Meanwhile the refund's retry fails for good and the saga decides CompensationFailed; it is
  // stopped before its write lands and before it could send the dead letter or announce.
  let lagging: string | undefined;
  const terminating = terminateLandsAfter(async () => {
    await app.advanceTime(5_500);
    await app.settle();
    finalWrite.mockRestore();
    lagging = (await readOrder(orderId))?.status;
  });
  try {
    const body = orderRequest({ orderId, customerId, shippingAddress: undoingOrder(orderId).shippingAddress });
    expect((await app.http('POST', '/api/orders', { body })).status).toBe(202);
    await app.waitForOrderStatus(orderId, 'Compensating');
    await app.settle();
    expect(refund).toHaveBeenCalledTimes(1);

    const refused = await terminate(orderId);
    expect(terminating).toHaveBeenCalled();
    // When the terminate landed, the saga had decided, but the document still lagged.
    expect(lagging).toBe('Compensating');
    expect((app.status(orderId)?.customStatus as OrderView).status).toBe('CompensationFailed');
    expect(app.status(orderId)?.runtimeStatus).toBe('Terminated');
    expect(refused.status).toBe(409);
    expect(refused.json).toEqual({
      orderId,
      status: 'CompensationFailed',
      message: 'the order’s saga has already ended',
      finished: {
        documentWritten: true,
        deadLettered: ['refundPayment'],
        published: 'contoso.orders.OrderCancelled.v1',
      },
    });
  } finally {
    terminating.mockRestore();
    finalWrite.mockRestore();
    refund.mockRestore();
  }
  const stored = (await readOrder(orderId))!;
  expect(stored.status).toBe('CompensationFailed');
  expect(stored.reason).toMatch(/address rejected.*; compensation failed: refundPayment$/);
  expect(stored.compensations.find((entry) => entry.name === 'refundPayment')).toMatchObject({ status: 'failed' });
  // One letter, on the queue and on the document, with what it takes to refund.
  const letters = await lettersFor(orderId);
  expect(letters).toHaveLength(1);
  expect(letters[0].failed).toEqual([
    {
      name: 'refundPayment',
      activity: 'refundPayment',
      input: { orderId, correlationId: stored.correlationId },
      error: 'the gateway refuses this refund',
    },
  ]);
  expect(stored.deadLetter).toMatchObject({ state: 'sent', letter: { orderId, failed: letters[0].failed } });
  expect(await factsFor(orderId)).toEqual([
    expect.objectContaining({
      type: 'contoso.orders.OrderCancelled.v1',
      finalStatus: 'CompensationFailed',
      customerId,
    }),
  ]);

  // A repeat sends no second letter and writes nothing; the fact goes out again, which consumers take in their stride.
  const again = await terminate(orderId);
  expect(again.status).toBe(409);
  expect(again.json).toMatchObject({ status: 'CompensationFailed', finished: { documentWritten: false } });
  expect(await lettersFor(orderId)).toHaveLength(1);
  expect((await readOrder(orderId))?.deadLetter?.messageId).toBe(stored.deadLetter?.messageId);
  expect((await readOrder(orderId))?.revision).toBe(stored.revision);
  const facts = await factsFor(orderId);
  expect(facts).toHaveLength(2);
  expect(facts[1]).toEqual({ ...facts[0], cancelledAt: expect.any(String) });
  await app.queues.drain();
  expect((await customerLedger(customerId)).entries).toHaveLength(1);
  // The operator's retry finds the dead letter, and the refund (the gateway takes it now) repairs the order.
  expect(
    (await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() })).status,
  ).toBe(202);
  await app.settle({ fastForward: true });
  expect((await readOrder(orderId))?.status).toBe('Compensated');
});

it('a step still running when the saga stops owes its undo too: its activity runs on, and the retry calls the parcel back', async () => {
  const orderId = uniqueOrderId('stop-shipping');
  let letGo!: () => void;
  const held = new Promise<void>((resolve) => (letGo = resolve));
  const book = simulatedCarrier.book.bind(simulatedCarrier);
  let trackingNumber: string | undefined;
  jest.spyOn(simulatedCarrier, 'book').mockImplementationOnce(async (request) => {
    await held;
    const booked = await book(request);
    if (booked.kind === 'booked') trackingNumber = booked.trackingNumber;
    return booked;
  });
  expect((await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) })).status).toBe(202);
  await app.waitForOrderStatus(orderId, 'Shipping');
  const stopped = await terminate(orderId);
  expect(stopped.status).toBe(200);
  // Newest first: the shipment the saga was waiting for, then what it registered to undo.
  const { deadLettered } = stopped.json as { deadLettered: string[] };
  expect(deadLettered[0]).toBe('cancelShipment');
  expect([...deadLettered].sort()).toEqual([
    'cancelShipment',
    'refundPayment',
    'releaseStock',
    'retractAnalytics',
    'sendCancellation',
  ]);
  // The booking the saga sent before it stopped comes back now, to a terminated instance.
  letGo();
  await app.settle();
  jest.restoreAllMocks();
  expect(trackingNumber).toBeDefined();
  expect(await readCarrierBooking(trackingNumber!)).toMatchObject({ status: 'booked' });

  expect(
    (await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() })).status,
  ).toBe(202);
  await app.settle({ fastForward: true });
  expect(await readCarrierBooking(trackingNumber!)).toMatchObject({ status: 'cancelled' });
  expect((await readOrder(orderId))?.status).toBe('Compensated');
});

it('a charge still at the gateway when the saga stops and its refund runs: it lands after the refund, and gives the money back', async () => {
  const orderId = uniqueOrderId('stop-paying');
  const letGo = holdNextCharge();
  expect((await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) })).status).toBe(202);
  await app.waitForOrderStatus(orderId, 'Paying');
  const stopped = await terminate(orderId);
  expect(stopped.status).toBe(200);
  expect((stopped.json as { deadLettered: string[] }).deadLettered).toEqual(['refundPayment']);
  // The operator's retry refunds before the charge has reached the gateway: nothing to refund yet.
  expect(
    (await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() })).status,
  ).toBe(202);
  await app.waitFor(repairInstanceId(orderId), (instance) => instance.runtimeStatus === 'Completed');
  expect((await readOrder(orderId))?.status).toBe('Compensated');
  expect(await gatewayTotals(orderId)).toEqual({ charged: 0, refunded: 0 });

  // The charge the stopped saga sent lands now, and finds the refund's tombstone.
  letGo();
  await app.settle({ fastForward: true });
  jest.restoreAllMocks();
  const order = await app.http('GET', `/api/orders/${orderId}`);
  expect((order.json as OrderView).status).toBe('Compensated');
  const amount = (await readOrder(orderId))!.total!;
  expect(await gatewayTotals(orderId)).toEqual({ charged: amount, refunded: amount });
  expect(await readPayment(orderId)).toMatchObject({ status: 'voided', lateCharge: { amount } });
});

it('a terminate repeated after the repair answers as before, and leaves the order Compensated', async () => {
  const orderId = uniqueOrderId('stop-again');
  // Undoing, its refund still failing: stopped then, the refund goes to the dead letter.
  const body = orderRequest({ orderId, payment: { token: 'tok_refund_recovers' }, shippingAddress: rejectedAddress });
  expect((await app.http('POST', '/api/orders', { body })).status).toBe(202);
  await app.waitForOrderStatus(orderId, 'Compensating');
  await app.settle();
  const first = await terminate(orderId);
  expect(first.json).toMatchObject({ status: 'Terminated', deadLettered: expect.arrayContaining(['refundPayment']) });
  const { deadLettered } = first.json as { deadLettered: string[] };
  expect(
    (await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() })).status,
  ).toBe(202);
  // The refund's attempts left from the saga's budget time out first, on virtual time.
  await app.settle({ fastForward: true });
  expect(app.status(repairInstanceId(orderId))?.runtimeStatus).toBe('Completed');
  const repaired = (await readOrder(orderId))!;
  expect(repaired).toMatchObject({ status: 'Compensated', deadLetter: { state: 'resolved' } });

  // The operator's client retries the first call (its reply was lost).
  const again = await terminate(orderId);
  expect(again.status).toBe(200);
  expect(again.json).toEqual({ orderId, status: 'Compensated', deadLettered });
  const after = (await readOrder(orderId))!;
  expect(after.status).toBe('Compensated');
  expect(after.compensations).toEqual(repaired.compensations);
  expect(await lettersFor(orderId)).toEqual([]);
});

it('a charge that lands after the repair completed gives the money back though the gateway fails its refund six times', async () => {
  const orderId = uniqueOrderId('stop-paying-refund-fails');
  const letGo = holdNextCharge();
  // The waits between the charge's own tries of its refund, recorded and not waited out.
  const waits = jest.spyOn(lateRefundRetry, 'wait').mockResolvedValue(undefined);
  // tok_refund_recovers: the gateway times out on the first 6 refund attempts.
  const body = orderRequest({ orderId, payment: { token: 'tok_refund_recovers' } });
  expect((await app.http('POST', '/api/orders', { body })).status).toBe(202);
  await app.waitForOrderStatus(orderId, 'Paying');
  expect((await terminate(orderId)).status).toBe(200);
  // The operator's retry finds nothing to refund yet, and the repair completes.
  expect(
    (await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() })).status,
  ).toBe(202);
  await app.waitFor(repairInstanceId(orderId), (instance) => instance.runtimeStatus === 'Completed');
  expect(await readOrder(orderId)).toMatchObject({ status: 'Compensated', deadLetter: { state: 'resolved' } });

  // The charge lands on the tombstone; nothing will retry its activity (the saga was terminated).
  letGo();
  await app.settle({ fastForward: true });
  jest.restoreAllMocks();
  expect(waits).toHaveBeenCalledTimes(6);
  const amount = (await readOrder(orderId))!.total!;
  expect(await gatewayTotals(orderId)).toEqual({ charged: amount, refunded: amount });
  expect(await readPayment(orderId)).toMatchObject({
    status: 'voided',
    lateCharge: { amount, refundId: expect.stringMatching(/^re_/) },
  });
  expect((await readOrder(orderId))?.status).toBe('Compensated');
});

it('the timeline of a terminated order says Terminated, as GET does, and is no longer live', async () => {
  const orderId = uniqueOrderId('stop-timeline');
  const body = orderRequest({ orderId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] });
  expect((await app.http('POST', '/api/orders', { body })).status).toBe(202);
  await app.waitForOrderStatus(orderId, 'AwaitingApproval');
  expect((await terminate(orderId)).status).toBe(200);
  // The instance's custom status still says AwaitingApproval: the saga never wrote another.
  expect((app.status(orderId)?.customStatus as OrderView).status).toBe('AwaitingApproval');
  expect(((await app.http('GET', `/api/orders/${orderId}`)).json as OrderView).status).toBe('Terminated');
  const timeline = (await app.http('GET', `/api/orders/${orderId}/timeline`)).json as OrderTimeline;
  expect(timeline).toMatchObject({
    status: 'Terminated',
    reason: expect.stringMatching(/^terminated by /),
    live: false,
  });
});

it('is for operators only, and only for a running saga', async () => {
  const orderId = uniqueOrderId('stop-done');
  await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
  expect(
    (await app.http('POST', `/api/operations/orders/${orderId}/terminate`, { body: { reason: 'x' } })).status,
  ).toBe(401);
  expect((await terminate(orderId, asApprover())).status).toBe(403);
  expect((await app.settleOrder(orderId)).status).toBe('Completed');
  expect((await terminate(orderId)).status).toBe(409);
  expect((await terminate('never-placed')).status).toBe(404);
  expect((await app.http('GET', '/api/operations/dead-letters')).status).toBe(401);
  expect((await app.http('GET', '/api/operations/dead-letters', { headers: asApprover() })).status).toBe(403);
  expect((await app.http('GET', '/api/operations/dead-letters', { headers: asOperator() })).status).toBe(200);
});

it('refuses a saga that has completed and is only announcing it, and leaves the order Completed', async () => {
  const orderId = uniqueOrderId('stop-announcing');
  // The order-events queue is down: the saga has decided Completed and retries its announcement.
  const publish = await placeAnnouncingOrder(app, orderId);
  try {
    const refused = await terminate(orderId);
    expect(refused.status).toBe(409);
    expect(refused.json).toEqual({ orderId, status: 'Completed', message: 'the order’s saga has already ended' });
  } finally {
    publish.mockRestore();
  }
  expect(app.status(orderId)?.runtimeStatus).toBe('Running');
  expect(await lettersFor(orderId)).toHaveLength(0);
  expect((await app.settleOrder(orderId)).status).toBe('Completed');
  expect((await readOrder(orderId))?.status).toBe('Completed');
  expect(app.status(orderId)?.runtimeStatus).toBe('Completed');
});

it('on a sped-up durable clock (DURABLE_TIME_SCALE) dates what it writes on that clock, not before the steps it stopped', async () => {
  // The saga's clock an hour ahead of the wall clock, and the app told so, as the offline host does.
  await app.advanceTime(3_600_000);
  const orderId = uniqueOrderId('stop-scaled');
  expect((await app.http('POST', '/api/orders', { body: undoingOrder(orderId) })).status).toBe(202);
  await app.waitForOrderStatus(orderId, 'Compensating');
  await app.settle();
  process.env.DURABLE_CLOCK = `${Date.now()}:${app.clock.now()}:1`;
  try {
    expect((await terminate(orderId)).status).toBe(200);
  } finally {
    delete process.env.DURABLE_CLOCK;
  }
  const stored = (await readOrder(orderId))!;
  const lastStep = Math.max(...stored.steps.map((step) => Date.parse(step.at)));
  const notRun = stored.compensations.find((entry) => entry.detail === 'not run: the saga was terminated')!;
  expect(Date.parse(notRun.at)).toBeGreaterThanOrEqual(lastStep);
  expect(Date.parse(stored.deadLetter!.letter.deadLetteredAt)).toBeGreaterThanOrEqual(lastStep);
  // The list sorts by updatedAt, which every other write of the document takes from the wall clock.
  expect(Date.parse(stored.updatedAt)).toBeLessThan(lastStep);
});
