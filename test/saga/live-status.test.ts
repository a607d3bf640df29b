/**
 * What a client polling the order sees while the saga runs: its custom status, read through the
 * management API from inside each activity stub, i.e. while that step is in flight. Written
 * against behaviour only (status, steps, compensations, warnings, undoable), not the saga's code.
 */
import type { ActivityStub } from '../../local/engine/testing';
import type { OrderView } from '../../src/services/orders/order-view';
import {
  fact,
  failing,
  happyActivities,
  ids,
  placeOrderInput,
  startStubbedSaga,
  type StubbedSaga,
} from '../support/stubbed-saga';

let saga: StubbedSaga | undefined;
afterEach(async () => {
  await saga?.stop();
  saga = undefined;
});

/** The instance's custom status as GET .../instances/{id} answers it. */
async function liveView(): Promise<OrderView> {
  const response = await saga!.http('GET', `/runtime/webhooks/durabletask/instances/${ids.orderId}`);
  return (response.json as { customStatus: OrderView }).customStatus;
}

/**
 * Runs the saga with the given stubs, each wrapped to read the live status before it answers.
 * Returns what was seen during each call, by activity name (a name called twice: the first call).
 */
async function runWatching(overrides: Record<string, ActivityStub> = {}) {
  const seen: Record<string, OrderView> = {};
  const stubs = { ...happyActivities(), ...overrides };
  const watched = Object.fromEntries(
    Object.entries(stubs).map(([name, stub]): [string, ActivityStub] => [
      name,
      async (activityInput, call) => {
        seen[name] ??= await liveView();
        return stub(activityInput, call);
      },
    ]),
  );
  saga = await startStubbedSaga(watched);
  await saga.start();
  return seen;
}

const step = (view: OrderView, name: string) =>
  view.steps.filter((entry) => entry.name === name).map((entry) => entry.status);

describe('the live status of a good order', () => {
  it('shows each step running while it runs, after the ones before it succeeded', async () => {
    const seen = await runWatching();

    expect(seen.validateOrder).toMatchObject({
      ...ids,
      status: 'Pending',
      total: null,
      currency: 'EUR',
      compensations: [],
      warnings: [],
    });
    expect(seen.validateOrder.steps).toEqual([expect.objectContaining({ name: 'validate', status: 'running' })]);

    expect(seen.chargePayment).toMatchObject({ status: 'Paying', total: 400 });
    expect(step(seen.chargePayment, 'validate')).toEqual(['succeeded']);
    expect(step(seen.chargePayment, 'pay')).toEqual(['running']);
    expect(seen.chargePayment.undoable ?? []).toEqual([]);

    for (const name of ['reserveStock', 'sendConfirmation', 'recordOrderFact']) {
      expect(seen[name]).toMatchObject({ status: 'Fulfilling', undoable: ['refundPayment'] });
      expect(step(seen[name], 'pay')).toEqual(['succeeded']);
      for (const branch of ['reserve', 'confirm', 'analytics']) expect(step(seen[name], branch)).toEqual(['running']);
    }

    expect(seen.createShipment).toMatchObject({ status: 'Shipping' });
    expect(seen.createShipment.undoable?.slice().sort()).toEqual([
      'refundPayment',
      'releaseStock',
      'retractAnalytics',
      'sendCancellation',
    ]);
    for (const branch of ['reserve', 'confirm', 'analytics'])
      expect(step(seen.createShipment, branch)).toEqual(['succeeded']);
    expect(step(seen.createShipment, 'ship')).toEqual(['running']);

    expect(seen.publishOrderOutcome).toMatchObject({ status: 'Completed', warnings: [] });
    expect(step(seen.publishOrderOutcome, 'ship')).toEqual(['succeeded']);
  });

  it('shows a non-critical branch that failed as a warning while the order goes on', async () => {
    const seen = await runWatching({
      sendConfirmation: () => fact('notifications', 'ConfirmationBounced', { reason: 'mailbox full' }),
    });
    expect(seen.createShipment).toMatchObject({ status: 'Shipping', warnings: ['confirm: mailbox full'] });
    expect(step(seen.createShipment, 'confirm')).toEqual(['warning']);
    expect(seen.createShipment.undoable).not.toContain('sendCancellation');
  });
});

describe('the live status of an order being undone', () => {
  it('shows Compensating, the failed step and its reason, and each compensation running in turn', async () => {
    const seen = await runWatching({
      reserveStock: () => fact('inventory', 'StockUnavailable', { sku: 'LAPTOP-PRO-16', requested: 1, available: 0 }),
    });
    // Newest first: the cancellation and the analytics retraction before the refund.
    expect(seen.sendCancellation).toMatchObject({
      status: 'Compensating',
      reason: expect.stringContaining('out of stock: LAPTOP-PRO-16'),
    });
    expect(step(seen.sendCancellation, 'reserve')).toEqual(['failed']);
    expect(seen.sendCancellation.compensations.at(-1)).toMatchObject({ name: 'sendCancellation', status: 'running' });

    expect(seen.refundPayment).toMatchObject({ status: 'Compensating' });
    expect(seen.refundPayment.compensations.map(({ name, status }) => [name, status])).toEqual([
      ['retractAnalytics', 'succeeded'],
      ['sendCancellation', 'succeeded'],
      ['refundPayment', 'running'],
    ]);

    expect(seen.publishOrderOutcome).toMatchObject({ status: 'Compensated' });
    expect(seen.publishOrderOutcome.compensations.every(({ status }) => status === 'succeeded')).toBe(true);
  });

  it('shows CompensationFailed, with what failed, before the order goes to the dead-letter queue', async () => {
    const seen = await runWatching({
      createShipment: () => fact('shipping', 'AddressRejected', { reason: 'no such street' }),
      refundPayment: failing('gateway down'),
      releaseStock: failing('inventory down'),
    });
    // Every compensation that failed, in the order they ran (newest step first).
    expect(seen.deadLetterOrder).toMatchObject({
      status: 'CompensationFailed',
      reason: expect.stringMatching(/; compensation failed: releaseStock, refundPayment$/),
    });
    expect(seen.deadLetterOrder.compensations.find(({ name }) => name === 'refundPayment')).toMatchObject({
      status: 'failed',
      detail: expect.stringContaining('gateway down'),
    });
    expect(step(seen.deadLetterOrder, 'ship')).toEqual(['failed']);
  });

  it('stamps a compensation with when it ended: after its retries, not when it started', async () => {
    saga = await startStubbedSaga({
      createShipment: () => fact('shipping', 'AddressRejected', { reason: 'no such street' }),
      refundPayment: (_input, { count }) => {
        if (count < 3) throw new Error('gateway busy');
        return fact('payments', 'PaymentRefunded', { refundId: 'ref-1', amount: 400 });
      },
    });
    await saga.start();
    const refund = saga.output().compensations.find(({ name }) => name === 'refundPayment');
    expect(refund).toMatchObject({ status: 'succeeded' });
    expect(Date.parse(refund!.at)).toBeGreaterThan(Date.parse(refund!.startedAt!));
  });

  it('shows a rejected payment as Rejected with nothing to undo', async () => {
    const seen = await runWatching({
      chargePayment: () => fact('payments', 'PaymentDeclined', { reason: 'no funds' }),
    });
    expect(seen.publishOrderOutcome).toMatchObject({
      status: 'Rejected',
      reason: 'payment declined: no funds',
      compensations: [],
    });
    expect(step(seen.publishOrderOutcome, 'pay')).toEqual(['failed']);
  });
});

describe('the live status of a large order', () => {
  it('shows AwaitingApproval with its deadline while it waits, and the decision once made', async () => {
    const large = placeOrderInput({ approvalThreshold: 100, approvalTimeoutMs: 3600_000 });
    saga = await startStubbedSaga();
    const startedAt = saga.clock.now();
    await saga.start(large, { fastForward: false });
    const waiting = await liveView();
    expect(waiting).toMatchObject({
      status: 'AwaitingApproval',
      approval: { deadline: new Date(startedAt + 3600_000).toISOString() },
    });
    expect(step(waiting, 'approval')).toEqual(['running']);
    expect(step(waiting, 'validate')).toEqual(['succeeded']);

    await saga.approve({ approved: true, approver: 'grace' });
    const done = await liveView();
    expect(done.approval?.decision).toMatchObject({ approved: true, approver: 'grace' });
    expect(done.steps.find(({ name }) => name === 'approval')).toMatchObject({
      status: 'succeeded',
      detail: 'approved by grace',
    });
  });
});

describe('warnings on the live status', () => {
  it('shows a stock commit that failed for good as a warning on a Completed order', async () => {
    const seen = await runWatching({ commitStock: failing('inventory down') });
    expect(seen.publishOrderOutcome).toMatchObject({
      status: 'Completed',
      warnings: [expect.stringMatching(/^commit stock: .*inventory down/)],
    });
  });

  it('shows an outcome that could not be published as a warning on the order, which still ends Completed', async () => {
    saga = await startStubbedSaga({ publishOrderOutcome: failing('queue down') });
    await saga.start();
    expect(saga.output()).toMatchObject({
      status: 'Completed',
      warnings: [expect.stringMatching(/^order outcome not published: .*queue down/)],
    });
    expect((await liveView()).warnings).toEqual(saga.output().warnings);
  });

  it('shows an approval the order document could not record as a warning, and goes on with the decision raised', async () => {
    saga = await startStubbedSaga({ settleApproval: failing('orders database down') });
    await saga.start(placeOrderInput({ approvalThreshold: 100 }), { fastForward: false });
    await saga.approve({ approved: true, approver: 'grace' });
    const view = await liveView();
    expect(view.warnings).toEqual([
      expect.stringMatching(/^approval: decision not recorded on the order: .*orders database down/),
    ]);
    expect(view.approval?.decision).toMatchObject({ approved: true, approver: 'grace' });
    expect(view.status).toBe('Completed');
  });
});
