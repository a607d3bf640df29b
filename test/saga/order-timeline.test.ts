/**
 * GET /api/orders/{id}/timeline: what the timeline page draws, read from the orchestration's
 * history and the order document, on the real saga with virtual time.
 */
import type { OrderView } from '../../src/services/orders/order-view';
import type { OrderTimeline } from '../../src/services/orders/timeline';
import { factType } from '../../src/libs/events';
import { TransientError } from '../../src/libs/errors';
import * as repository from '../../src/services/orders/repository';
import { RetryPolicies } from '../../src/services/orders/retry-policies';
import { attemptsOf } from '../../src/services/orders/timeline';
import { orderRequest, rejectedAddress, uniqueOrderId } from '../support/orders';
import { asApprover, asOperator } from '../support/principals';
import { startSagaApp, type SagaApp } from '../support/saga-app';
import { queueDown, refundsRefused } from '../support/outages';

let app: SagaApp;
beforeAll(async () => {
  app = await startSagaApp();
});
afterAll(async () => {
  await app?.stop();
});

/** Until the saga's own view shows the approval step (the document's status can come first). */
const untilWaitingForApproval = (orderId: string) =>
  app.waitFor(
    orderId,
    (instance) =>
      (instance.customStatus as OrderView | undefined)?.steps.some((step) => step.name === 'approval') ?? false,
  );

async function timelineOf(orderId: string): Promise<OrderTimeline> {
  const response = await app.http('GET', `/api/orders/${orderId}/timeline`);
  expect(response.status).toBe(200);
  return response.json as OrderTimeline;
}

it('a flaky charge shows each attempt, the error and the retry wait between them; a shipped order its tracking number and items', async () => {
  const orderId = uniqueOrderId('tl-flaky');
  await app.http('POST', '/api/orders', { body: orderRequest({ orderId, payment: { token: 'tok_flaky' } }) });
  await app.settleOrder(orderId);
  const timeline = await timelineOf(orderId);
  const pay = timeline.spans.find((span) => span.kind === 'step' && span.name === 'pay')!;
  expect(pay.attempts.map((attempt) => attempt.outcome)).toEqual(['failed', 'failed', 'succeeded']);
  expect(pay.attempts[0].error).toMatch(/^payment gateway timed out/);
  // RetryPolicies.pay: 2 s first, then doubled.
  expect(pay.attempts.slice(0, 2).map((attempt) => attempt.retryAfterMs)).toEqual([2000, 4000]);
  expect(Date.parse(pay.end!) - Date.parse(pay.start)).toBeGreaterThanOrEqual(6000);
  expect(timeline.shipment).toEqual({ trackingNumber: expect.any(String), carrier: expect.any(String) });
  expect(timeline.items).toEqual([
    {
      sku: 'MOUSE-ERGO',
      quantity: 2,
      name: expect.any(String),
      unitPrice: expect.any(Number),
      lineTotal: expect.any(Number),
    },
  ]);
  expect(timeline.spans.every((span) => span.end && Date.parse(span.end) >= Date.parse(span.start))).toBe(true);
});

it('a large order shows its approval deadline while it waits, then who decided', async () => {
  const orderId = uniqueOrderId('tl-approval');
  await app.http('POST', '/api/orders', {
    body: orderRequest({ orderId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
  });
  await untilWaitingForApproval(orderId);
  const waiting = await timelineOf(orderId);
  const approval = waiting.spans.find((span) => span.name === 'approval')!;
  expect(approval.status).toBe('running');
  expect(approval.end).toBeUndefined();
  expect(Date.parse(waiting.approval!.deadline!) - Date.parse(approval.start)).toBe(24 * 3600_000);
  expect(Date.parse(waiting.now)).toBeGreaterThanOrEqual(Date.parse(approval.start));

  expect(
    (
      await app.http('POST', `/api/orders/${orderId}/approval`, {
        body: { approved: true },
        headers: asApprover('grace'),
      })
    ).status,
  ).toBe(202);
  await app.settleOrder(orderId);
  const decided = await timelineOf(orderId);
  expect(decided.approval?.decision).toEqual({ approved: true, approver: 'grace', at: expect.any(String) });
});

it('shows the approval deadline the approval route holds decisions to, though the step began later (its progress write was retried)', async () => {
  const orderId = uniqueOrderId('tl-deadline');
  const realSave = repository.saveOrderProgress;
  let refused = 0;
  // The AwaitingApproval write fails once: the saga set the deadline before it, and begins the step after its retry (1 s).
  const save = jest.spyOn(repository, 'saveOrderProgress').mockImplementation(async (revision, view, now) => {
    if (view.orderId === orderId && view.status === 'AwaitingApproval' && refused++ === 0)
      throw new TransientError('the orders database is busy');
    return realSave(revision, view, now);
  });
  try {
    await app.http('POST', '/api/orders', {
      body: orderRequest({ orderId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
    });
    await app.settle();
    expect(refused).toBe(1);
    await app.advanceTime(RetryPolicies.progress.firstRetryIntervalInMilliseconds);
    await untilWaitingForApproval(orderId);
  } finally {
    save.mockRestore();
  }
  const { approval: enforced } = (await app.http('GET', `/api/orders/${orderId}`)).json as OrderView;
  const timeline = await timelineOf(orderId);
  const step = timeline.spans.find((span) => span.name === 'approval')!;
  // The step began after the deadline was set (24 h before it): the retried write took saga time.
  expect(Date.parse(step.start)).toBeGreaterThan(Date.parse(enforced!.deadline) - 24 * 3600_000);
  expect(timeline.approval?.deadline).toBe(enforced!.deadline);
});

it('after a purge the timeline still says who approved, from the order document, and keeps the items and the deadline', async () => {
  const orderId = uniqueOrderId('tl-approved-purged');
  await app.http('POST', '/api/orders', {
    body: orderRequest({ orderId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
  });
  await app.waitForOrderStatus(orderId, 'AwaitingApproval');
  const decided = await app.http('POST', `/api/orders/${orderId}/approval`, {
    body: { approved: true },
    headers: asApprover('ada'),
  });
  expect(decided.status).toBe(202);
  expect((await app.settleOrder(orderId)).status).toBe('Completed');
  const before = await timelineOf(orderId);
  expect((await app.http('DELETE', `/runtime/webhooks/durabletask/instances/${orderId}`)).status).toBe(200);

  const purged = await timelineOf(orderId);
  expect(purged.approval).toEqual({
    required: true,
    deadline: before.approval!.deadline,
    decision: { approved: true, approver: 'ada', at: expect.any(String) },
  });
  // The order as placed (its intake on the document): the validation's names and prices went with the history.
  expect(purged.items).toEqual([{ sku: 'LAPTOP-PRO-16', quantity: 1 }]);
});

it('an approval nobody decided says whether the timeout stood or the order was terminated first', async () => {
  const timedOutId = uniqueOrderId('tl-approval-timeout');
  await app.http('POST', '/api/orders', {
    body: orderRequest({ orderId: timedOutId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
  });
  expect((await app.settleOrder(timedOutId)).status).toBe('Rejected');
  const timedOut = await timelineOf(timedOutId);
  expect(timedOut.approval).toMatchObject({ required: true, timedOut: true });
  expect(timedOut.approval?.decision).toBeUndefined();

  const terminatedId = uniqueOrderId('tl-approval-terminated');
  await app.http('POST', '/api/orders', {
    body: orderRequest({ orderId: terminatedId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
  });
  await untilWaitingForApproval(terminatedId);
  const stopped = await app.http('POST', `/api/operations/orders/${terminatedId}/terminate`, {
    body: { reason: 'customer called to cancel' },
    headers: asOperator('olivia'),
  });
  expect(stopped.status).toBe(200);
  const terminated = await timelineOf(terminatedId);
  expect(terminated.status).toBe('Terminated');
  expect(terminated.approval).toEqual({ required: true, deadline: expect.any(String) });
});

it('a dead-lettered order shows the failed compensation, then the repair and its attempts', async () => {
  const orderId = uniqueOrderId('tl-repair');
  await app.http('POST', '/api/orders', {
    body: orderRequest({ orderId, payment: { token: 'tok_refund_recovers' }, shippingAddress: rejectedAddress }),
  });
  await app.settleOrder(orderId);
  const stuck = await timelineOf(orderId);
  expect(stuck.status).toBe('CompensationFailed');
  expect(stuck.live).toBe(false);
  expect(stuck.deadLetter).toMatchObject({
    state: 'sent',
    repairs: 0,
    failed: [{ name: 'refundPayment' }],
    repairable: true,
  });
  expect(
    stuck.spans.find((span) => span.kind === 'compensation' && span.name === 'refundPayment')!.attempts,
  ).toHaveLength(6);

  expect(
    (await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() })).status,
  ).toBe(202);
  await app.settle({ fastForward: true });
  const repaired = await timelineOf(orderId);
  expect(repaired.status).toBe('Compensated');
  expect(repaired.live).toBe(false);
  expect(repaired.deadLetter).toMatchObject({ state: 'resolved', repairs: 1, repair: { runtimeStatus: 'Completed' } });
  expect(repaired.deadLetter?.repairable).toBeUndefined();
  expect(repaired.spans.filter((span) => span.kind === 'repair')).toEqual([
    expect.objectContaining({ name: 'refundPayment', status: 'succeeded' }),
  ]);
});

it('stays live after a final status while the saga still dead-letters, so the page reads the dead letter once it is sent', async () => {
  const orderId = uniqueOrderId('tl-letter');
  // The refund is refused outright (no retry), and the dead-letter queue is down: the saga has
  // written CompensationFailed and retries the letter.
  const refunds = refundsRefused();
  const queues = queueDown('order-dead-letters');
  try {
    await app.http('POST', '/api/orders', { body: orderRequest({ orderId, shippingAddress: rejectedAddress }) });
    await app.waitForOrderStatus(orderId, 'CompensationFailed');
    await app.settle();
    expect(queues).toHaveBeenCalledWith('order-dead-letters');
    const waiting = await timelineOf(orderId);
    expect(waiting.status).toBe('CompensationFailed');
    expect(waiting.deadLetter?.state).not.toBe('sent');
    expect(waiting.live).toBe(true);
  } finally {
    queues.mockRestore();
    refunds.mockRestore();
  }
  await app.settleOrder(orderId);
  const sent = await timelineOf(orderId);
  expect(sent.deadLetter).toMatchObject({ state: 'sent', failed: [{ name: 'refundPayment' }] });
  expect(sent.live).toBe(false);
});

it('shows the warnings the saga adds after a final status, as GET does (a dead letter that could not be sent)', async () => {
  const orderId = uniqueOrderId('tl-unsent');
  const refunds = refundsRefused();
  const queues = queueDown('order-dead-letters');
  try {
    await app.http('POST', '/api/orders', { body: orderRequest({ orderId, shippingAddress: rejectedAddress }) });
    // The queue stays down through every retry of the letter.
    await app.settleOrder(orderId);
  } finally {
    queues.mockRestore();
    refunds.mockRestore();
  }
  const { warnings } = (await app.http('GET', `/api/orders/${orderId}`)).json as OrderView;
  expect(warnings).toEqual([expect.stringMatching(/^dead letter not sent: /)]);
  const timeline = await timelineOf(orderId);
  expect(timeline).toMatchObject({ status: 'CompensationFailed', live: false });
  expect(timeline.warnings).toEqual(warnings);
});

it("a terminated order that the operator's retry repaired reads Compensated in GET and the timeline, as in the list", async () => {
  const orderId = uniqueOrderId('tl-terminated-repaired');
  await app.http('POST', '/api/orders', {
    body: orderRequest({ orderId, payment: { token: 'tok_refund_recovers' }, shippingAddress: rejectedAddress }),
  });
  // The refund fails and waits for its retry (virtual time does not move): the saga is undoing.
  await app.waitForOrderStatus(orderId, 'Compensating');
  await app.settle();
  const stopped = await app.http('POST', `/api/operations/orders/${orderId}/terminate`, {
    body: { reason: 'stuck refund' },
    headers: asOperator('olivia'),
  });
  expect(stopped.json).toMatchObject({ status: 'Terminated', deadLettered: expect.arrayContaining(['refundPayment']) });
  // The retry route takes a Terminated order's dead letter as it takes a CompensationFailed one's: so does the page.
  const stuck = await timelineOf(orderId);
  expect(stuck.status).toBe('Terminated');
  expect(stuck.deadLetter).toMatchObject({ state: 'sent', repairable: true });
  expect(
    (await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, { headers: asOperator() })).status,
  ).toBe(202);
  await app.settle({ fastForward: true });

  const list = (await app.http('GET', '/api/orders?limit=100')).json as {
    orders: { orderId: string; status: string }[];
  };
  expect(list.orders.find((entry) => entry.orderId === orderId)?.status).toBe('Compensated');
  expect(((await app.http('GET', `/api/orders/${orderId}`)).json as OrderView).status).toBe('Compensated');
  const timeline = await timelineOf(orderId);
  expect(timeline.status).toBe('Compensated');
  expect(timeline.live).toBe(false);
  expect(timeline.deadLetter?.repairable).toBeUndefined();
});

it('answers 404 for an unknown order', async () => {
  expect((await app.http('GET', '/api/orders/never-placed/timeline')).status).toBe(404);
});

it('attemptsOf reads attempts in history order and only for the activity asked', () => {
  const history = [
    {
      EventType: 'TaskFailed',
      FunctionName: 'a',
      ScheduledTime: '2026-01-01T00:00:00.000Z',
      Timestamp: '2026-01-01T00:00:01.000Z',
      Reason: 'boom\n  at stack',
    },
    {
      EventType: 'TaskCompleted',
      FunctionName: 'b',
      ScheduledTime: '2026-01-01T00:00:00.000Z',
      Timestamp: '2026-01-01T00:00:02.000Z',
    },
    {
      EventType: 'TaskCompleted',
      FunctionName: 'a',
      ScheduledTime: '2026-01-01T00:00:04.000Z',
      Timestamp: '2026-01-01T00:00:05.000Z',
    },
  ];
  expect(attemptsOf(history, 'a')).toEqual([
    {
      start: '2026-01-01T00:00:00.000Z',
      end: '2026-01-01T00:00:01.000Z',
      outcome: 'failed',
      error: 'boom',
      retryAfterMs: 3000,
    },
    { start: '2026-01-01T00:00:04.000Z', end: '2026-01-01T00:00:05.000Z', outcome: 'succeeded' },
  ]);
});

it('attemptsOf shows an attempt answered with a defect as failed, with its reason', () => {
  const defect = {
    type: factType('activities', 'ActivityDefect'),
    activity: 'a',
    reason: 'shipment was cancelled',
    errorType: 'ShipmentAlreadyCancelled',
  };
  const history = [
    {
      EventType: 'TaskCompleted',
      FunctionName: 'a',
      ScheduledTime: '2026-01-01T00:00:00.000Z',
      Timestamp: '2026-01-01T00:00:01.000Z',
      Result: defect,
    },
    {
      EventType: 'TaskCompleted',
      FunctionName: 'a',
      ScheduledTime: '2026-01-01T00:00:02.000Z',
      Timestamp: '2026-01-01T00:00:03.000Z',
      Result: JSON.stringify(defect),
    },
    {
      EventType: 'TaskCompleted',
      FunctionName: 'a',
      ScheduledTime: '2026-01-01T00:00:04.000Z',
      Timestamp: '2026-01-01T00:00:05.000Z',
      Result: { type: 'x' },
    },
  ];
  expect(attemptsOf(history, 'a').map(({ outcome, error }) => ({ outcome, error }))).toEqual([
    { outcome: 'failed', error: 'shipment was cancelled' },
    { outcome: 'failed', error: 'shipment was cancelled' },
    { outcome: 'succeeded', error: undefined },
  ]);
});

it("attemptsOf shows a failure's own message, without the extension's `Activity function '<name>' failed:`", () => {
  const history = [
    {
      EventType: 'TaskFailed',
      FunctionName: 'chargePayment',
      Timestamp: '2026-01-01T00:00:01.000Z',
      Reason: "Activity function 'chargePayment' failed: payment gateway timed out (key o-1:charge)",
    },
  ];
  expect(attemptsOf(history, 'chargePayment').map((attempt) => attempt.error)).toEqual([
    'payment gateway timed out (key o-1:charge)',
  ]);
});
