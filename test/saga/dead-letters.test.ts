/**
 * The dead-letter queue on real Azurite: a compensation that fails for good sends exactly one
 * message; an operator lists it and retries the failed compensations (only those), and a
 * successful retry makes the order Compensated and takes it off the queue.
 */
import { InvocationContext } from '@azure/functions';
import { decodeMessage, encodeMessage, queueClient } from '../../src/libs/storage-queues';
import { deadLetterOrder } from '../../src/services/orders/dead-letter-order';
import { recordDeadLetter } from '../../src/services/orders/record-dead-letter';
import type { DeadLetter } from '../../src/services/orders/dead-letters';
import { repairInstanceId } from '../../src/services/orders/contract';
import { readOrder, saveOrderProgress, updateOrder } from '../../src/services/orders/repository';
import { readLedgerEntry, writeLedgerEntry } from '../../src/services/payments/repository';
import { gatewayTotals } from '../support/gateway-ledger';
import { orderRequest, rejectedAddress, uniqueOrderId } from '../support/orders';
import { asOperator } from '../support/principals';
import { startSagaApp, type SagaApp } from '../support/saga-app';
import { queueDown, refundsRefused } from '../support/outages';

let app: SagaApp;
let orderId: string;
/** The app's log lines (structured JSON), by function. */
const logged: { functionName: string; line: string }[] = [];

beforeAll(async () => {
  app = await startSagaApp({
    log: (_level, functionName, ...args) => logged.push({ functionName, line: args.join(' ') }),
  });
  orderId = uniqueOrderId('dead');
  await app.http('POST', '/api/orders', {
    body: orderRequest({ orderId, payment: { token: 'tok_refund_fails' }, shippingAddress: rejectedAddress }),
  });
  expect((await app.settleOrder(orderId)).status).toBe('CompensationFailed');
});
afterAll(async () => {
  await app?.stop();
});

const quiet = () => new InvocationContext({ functionName: 'deadLetterOrder', logHandler: () => undefined });

async function lettersFor(id: string): Promise<DeadLetter[]> {
  const { peekedMessageItems } = await queueClient('order-dead-letters').peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems
    .map((item) => decodeMessage<DeadLetter>(item.messageText))
    .filter((letter) => letter.orderId === id);
}

/** An order document that says CompensationFailed, for the dead-letter activity to claim and record on. */
async function saveCompensationFailed(id: string): Promise<void> {
  const view = {
    orderId: id,
    correlationId: `corr-${id}`,
    status: 'CompensationFailed' as const,
    total: 10,
    currency: 'EUR' as const,
    steps: [],
    compensations: [],
    warnings: [],
  };
  expect(await saveOrderProgress(1, view, new Date())).toBe('written');
}

/** A letter whose one failed compensation is the refund. */
const refundLetter = (id: string, deadLetteredAt = new Date().toISOString()): DeadLetter => ({
  orderId: id,
  correlationId: `corr-${id}`,
  reason: 'refund failed',
  failed: [{ name: 'refundPayment', activity: 'refundPayment', input: { orderId: id }, error: 'gateway down' }],
  deadLetteredAt,
});

it('sends exactly one message with the order, its correlation id and the failed compensations', async () => {
  const letters = await lettersFor(orderId);
  expect(letters).toHaveLength(1);
  expect(letters[0]).toMatchObject({
    orderId,
    correlationId: expect.any(String),
    failed: [{ name: 'refundPayment', activity: 'refundPayment', error: expect.stringMatching(/timed out/) }],
  });
  expect((await readOrder(orderId))?.deadLetter).toMatchObject({ state: 'sent', messageId: expect.any(String) });
});

it('still sends one message when the activity runs again, even after dying between send and record', async () => {
  const letter = (await lettersFor(orderId))[0];
  await deadLetterOrder(
    letter,
    new InvocationContext({ functionName: 'deadLetterOrder', logHandler: () => undefined }),
  );
  // As if a run had sent the message and died before writing its id on the order.
  await updateOrder(orderId, (order) => ({ ...order, deadLetter: { state: 'claimed', letter } }));
  await deadLetterOrder(
    letter,
    new InvocationContext({ functionName: 'deadLetterOrder', logHandler: () => undefined }),
  );
  expect(await lettersFor(orderId)).toHaveLength(1);
  expect((await readOrder(orderId))?.deadLetter?.state).toBe('sent');
});

it('lists dead letters for an operator', async () => {
  const response = await app.http('GET', '/api/operations/dead-letters', { headers: asOperator() });
  expect(response.status).toBe(200);
  const body = response.json as {
    approximateCount: number;
    deadLetters: { orderId: string; failed: { name: string }[] }[];
  };
  expect(body.approximateCount).toBeGreaterThanOrEqual(1);
  expect(body.deadLetters.find((letter) => letter.orderId === orderId)?.failed).toEqual([
    { name: 'refundPayment', error: expect.any(String) },
  ]);
});

it('retries only the failed compensations; while the gateway still fails, the order stays CompensationFailed', async () => {
  const response = await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() });
  expect(response.status).toBe(202);
  expect(response.json).toMatchObject({ orderId, retrying: ['refundPayment'] });
  await app.settle({ fastForward: true });
  const repair = app.status(repairInstanceId(orderId))!;
  const scheduled = (repair.history ?? []).filter((event) => event.EventType === 4).map((event) => event.Name);
  expect(new Set(scheduled)).toEqual(new Set(['refundPayment', 'recordRepairOutcome']));
  expect((await app.http('GET', `/api/orders/${orderId}`)).json).toMatchObject({ status: 'CompensationFailed' });
  expect(await lettersFor(orderId)).toHaveLength(1);
  expect((await readOrder(orderId))?.deadLetter?.repairs).toBe(1);
});

it('an order whose id ends in -repair neither blocks nor takes the repair of the order it names', async () => {
  const lookalike = `${orderId}-repair`;
  // A large order: its saga waits for approval, running for as long as the test.
  const placed = await app.http('POST', '/api/orders', {
    body: orderRequest({ orderId: lookalike, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
  });
  expect(placed.status).toBe(202);
  await app.waitForOrderStatus(lookalike, 'AwaitingApproval');
  const response = await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() });
  expect(response.status).toBe(202);
  await app.settle({ fastForward: true });
  expect((await readOrder(orderId))?.deadLetter?.repairs).toBe(2);
  expect((await app.http('GET', `/api/orders/${lookalike}`)).json).toMatchObject({ orderId: lookalike });
});

it('logs the repair it starts under the order’s correlation id, not the one the operator’s request carried', async () => {
  const { correlationId } = (await readOrder(orderId))!;
  const response = await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, {
    headers: { ...asOperator(), 'x-correlation-id': 'operators-own-request' },
  });
  expect(response.status).toBe(202);
  await app.settle({ fastForward: true });
  const started = logged
    .filter((entry) => entry.functionName === 'retryDeadLetterHttp')
    .map((entry) => JSON.parse(entry.line) as { message: string; orderId: string; correlationId: string })
    .filter((entry) => entry.orderId === orderId);
  expect(started.at(-1)).toMatchObject({ message: 'repair started', correlationId });
  expect(started.map((entry) => entry.correlationId)).not.toContain('operators-own-request');
});

it('GET of a dead-lettered order answers Retry-After while its repair runs, so the retry’s statusUrl can be followed', async () => {
  const before = await app.http('GET', `/api/orders/${orderId}`);
  expect(before.json).toMatchObject({ status: 'CompensationFailed' });
  expect(before.headers['retry-after']).toBeUndefined();
  const retry = await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() });
  expect(retry.status).toBe(202);
  expect(retry.json).toMatchObject({ statusUrl: expect.stringMatching(new RegExp(`/api/orders/${orderId}$`)) });
  // The repair has started and waits out the refund's retries (this card's refunds still fail).
  await app.settle();
  expect(app.status(repairInstanceId(orderId))?.runtimeStatus).toBe('Running');
  const repairing = await app.http('GET', `/api/orders/${orderId}`);
  expect(repairing.json).toMatchObject({ status: 'CompensationFailed' });
  expect(Number(repairing.headers['retry-after'])).toBeGreaterThan(0);
  await app.settle({ fastForward: true });
  expect(app.status(repairInstanceId(orderId))?.runtimeStatus).toBe('Completed');
  const after = await app.http('GET', `/api/orders/${orderId}`);
  expect(after.json).toMatchObject({ status: 'CompensationFailed' });
  expect(after.headers['retry-after']).toBeUndefined();
});

it('once the cause is fixed, a retry refunds, makes the order Compensated and clears its dead letter', async () => {
  // The payment provider fixed its side: refunds of this charge now go through.
  const entry = (await readLedgerEntry(`${orderId}:charge`))!;
  await writeLedgerEntry({ ...entry.value, token: 'tok_visa' }, entry.etag);

  expect(
    (await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() })).status,
  ).toBe(202);
  await app.settle({ fastForward: true });
  const view = (await app.http('GET', `/api/orders/${orderId}`)).json as {
    status: string;
    compensations: { name: string; status: string }[];
  };
  expect(view.status).toBe('Compensated');
  expect(view.compensations.map((entry) => [entry.name, entry.status])).toEqual([
    ['releaseStock', 'succeeded'],
    ['retractAnalytics', 'succeeded'],
    ['sendCancellation', 'succeeded'],
    ['refundPayment', 'succeeded'],
  ]);
  expect(await gatewayTotals(orderId)).toEqual({ charged: 159, refunded: 159 });
  expect(await lettersFor(orderId)).toEqual([]);
});

it('answers 409 for an order that no longer needs a repair, and 404 for one without a dead letter', async () => {
  expect(
    (await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() })).status,
  ).toBe(409);
  expect(
    (await app.http('POST', '/api/operations/dead-letters/never-placed/retry', { headers: asOperator() })).status,
  ).toBe(404);
});

it('tok_refund_recovers: the refund outlasts the saga’s retries, and the operator’s retry alone makes it Compensated', async () => {
  const recovering = uniqueOrderId('recovers');
  await app.http('POST', '/api/orders', {
    body: orderRequest({
      orderId: recovering,
      payment: { token: 'tok_refund_recovers' },
      shippingAddress: rejectedAddress,
    }),
  });
  expect((await app.settleOrder(recovering)).status).toBe('CompensationFailed');
  expect((await gatewayTotals(recovering)).refunded).toBe(0);
  expect(await lettersFor(recovering)).toHaveLength(1);

  // Nothing changed by hand: the provider recovered, and the retry goes through.
  expect(
    (await app.http('POST', `/api/operations/dead-letters/${recovering}/retry`, { headers: asOperator() })).status,
  ).toBe(202);
  await app.settle({ fastForward: true });
  expect((await app.http('GET', `/api/orders/${recovering}`)).json).toMatchObject({ status: 'Compensated' });
  const { charged, refunded } = await gatewayTotals(recovering);
  expect(refunded).toBe(charged);
  expect(await lettersFor(recovering)).toEqual([]);
});

it('leaves out of the list a letter whose order a repair resolved, even while its message lingers on the queue', async () => {
  // removeDeadLetter is best effort: put the resolved order's message back, as a missed removal would leave it.
  const letter: DeadLetter = (await readOrder(orderId))!.deadLetter!.letter;
  expect((await readOrder(orderId))?.deadLetter?.state).toBe('resolved');
  await queueClient('order-dead-letters').sendMessage(encodeMessage(letter));
  expect(await lettersFor(orderId)).toHaveLength(1);

  const body = (await app.http('GET', '/api/operations/dead-letters', { headers: asOperator() })).json as {
    deadLetters: { orderId: string }[];
  };
  expect(body.deadLetters.map((entry) => entry.orderId)).not.toContain(orderId);
});

it('sends exactly one message when two runs of the activity race for the same order', async () => {
  const orders = [1, 2, 3].map(() => uniqueOrderId('race'));
  for (const id of orders) await saveCompensationFailed(id);
  const runs = await Promise.all(
    orders.flatMap((id) => [deadLetterOrder(refundLetter(id), quiet()), deadLetterOrder(refundLetter(id), quiet())]),
  );
  for (const [index, id] of orders.entries()) {
    const letters = await lettersFor(id);
    expect(letters).toHaveLength(1);
    const stored = (await readOrder(id))!.deadLetter!;
    expect(stored.state).toBe('sent');
    // Both runs answer with the one message that stayed.
    expect([runs[2 * index], runs[2 * index + 1]]).toEqual([
      { messageId: stored.messageId },
      { messageId: stored.messageId },
    ]);
  }
});

it('recordDeadLetter records a letter already on the queue and sends nothing; a message id recorded first stands, a resolved letter stays resolved', async () => {
  const [recorded, resolved] = [1, 2].map(() => uniqueOrderId('record'));
  for (const id of [recorded, resolved]) await saveCompensationFailed(id);
  const letterOf = (id: string) => refundLetter(id, '2026-12-01T00:00:00.000Z');
  const record = (id: string, messageId: string) => recordDeadLetter({ ...letterOf(id), messageId }, quiet());

  expect(await record(recorded, 'message-1')).toEqual({ messageId: 'message-1' });
  expect(await record(recorded, 'message-2')).toEqual({ messageId: 'message-1' });
  expect((await readOrder(recorded))?.deadLetter).toMatchObject({ state: 'sent', messageId: 'message-1' });

  await updateOrder(resolved, (order) => ({ ...order, deadLetter: { state: 'resolved', letter: letterOf(resolved) } }));
  expect(await record(resolved, 'message-3')).toEqual({ resolved: true });
  expect((await readOrder(resolved))?.deadLetter).toEqual({ state: 'resolved', letter: letterOf(resolved) });
  // Neither was sent: the record only writes the order document.
  expect([...(await lettersFor(recorded)), ...(await lettersFor(resolved))]).toEqual([]);
});

it('a repair that resolves a letter still waiting to be sent is not undone by the saga sending it afterwards', async () => {
  const waiting = uniqueOrderId('resolved-first');
  // The refund is refused outright (no retry), and the dead-letter queue takes no message: the
  // saga has claimed the letter on the order and retries its send.
  const refunds = refundsRefused();
  const queues = queueDown('order-dead-letters', ['sendMessage']);
  try {
    await app.http('POST', '/api/orders', {
      body: orderRequest({ orderId: waiting, shippingAddress: rejectedAddress }),
    });
    await app.waitForOrderStatus(waiting, 'CompensationFailed');
    await app.settle();
    expect((await readOrder(waiting))?.deadLetter?.state).toBe('claimed');
    // The gateway takes refunds again, and an operator retries the order the page shows dead-lettered.
    refunds.mockRestore();
    const retry = await app.http('POST', `/api/operations/dead-letters/${waiting}/retry`, { headers: asOperator() });
    expect(retry.status).toBe(202);
    await app.settle();
    expect(await readOrder(waiting)).toMatchObject({ status: 'Compensated', deadLetter: { state: 'resolved' } });
  } finally {
    refunds.mockRestore();
    queues.mockRestore();
  }
  // The queue takes messages again: the saga's next attempt finds the order repaired.
  await app.settleOrder(waiting);
  expect(app.status(waiting)?.runtimeStatus).toBe('Completed');
  expect(await readOrder(waiting)).toMatchObject({ status: 'Compensated', deadLetter: { state: 'resolved' } });
  expect(await lettersFor(waiting)).toEqual([]);
  const listed = (await app.http('GET', '/api/operations/dead-letters', { headers: asOperator() })).json as {
    deadLetters: { orderId: string }[];
  };
  expect(listed.deadLetters.map((entry) => entry.orderId)).not.toContain(waiting);
});
