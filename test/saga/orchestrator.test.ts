/**
 * Every branch of placeOrder on the middle layer: the real orchestrator on the durable engine with
 * virtual time, each activity a stub by its registered name. What a branch does is decided by what
 * the stubs answer, never by a magic input.
 */
import { MemoryInstanceStore } from '../../local/engine/store';
import { startTestApp } from '../../local/engine/testing';
import type { CompensationEntry, OrderView } from '../../src/services/orders/order-view';
import {
  defective,
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

const begin = async (...args: Parameters<typeof startStubbedSaga>) => (saga = await startStubbedSaga(...args));
const compensations = (view: OrderView) => view.compensations.map(({ name, status }) => `${name}:${status}`);
const steps = (view: OrderView) => view.steps.map(({ name, status }) => `${name}:${status}`);
const progressStatuses = (app: StubbedSaga) =>
  app.callsTo('recordOrderProgress').map((input) => (input as { view: OrderView }).view.status);

/** Undo answers for "there was nothing to undo", one per compensation. */
const nothingToUndo = {
  refundPayment: () => fact('payments', 'RefundNotNeeded', { reason: 'never charged' }),
  releaseStock: () => fact('inventory', 'StockReleased', { released: [] }),
  sendCancellation: () => fact('notifications', 'CancellationNotNeeded', { reason: 'no confirmation was sent' }),
  retractOrderFact: () => fact('analytics', 'OrderRetracted', { wasRecorded: false }),
  cancelShipment: () => fact('shipping', 'ShipmentCancelled', { wasCreated: false }),
};

describe('the happy path', () => {
  it('runs every step once, charges the validated total, and writes each status in order with rising revisions', async () => {
    const app = await begin();
    const view = await app.run();
    expect(view.status).toBe('Completed');
    expect(steps(view)).toEqual([
      'validate:succeeded',
      'pay:succeeded',
      'reserve:succeeded',
      'confirm:succeeded',
      'analytics:succeeded',
      'ship:succeeded',
    ]);
    expect(view.compensations).toEqual([]);
    expect(view.warnings).toEqual([]);
    expect(view.total).toBe(400);
    expect(app.callsTo('chargePayment')).toEqual([{ ...ids, amount: 400, currency: 'EUR', paymentToken: 'tok_any' }]);
    expect(progressStatuses(app)).toEqual(['Paying', 'Fulfilling', 'Shipping', 'Completed']);
    expect(app.callsTo('recordOrderProgress').map((input) => (input as { revision: number }).revision)).toEqual([
      1, 2, 3, 4,
    ]);
    expect(app.callsTo('createShipment')).toEqual([
      { ...ids, address: placeOrderInput().order.shippingAddress, lines: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] },
    ]);
  });

  it('publishes what it would owe, in the order the undos were owed: the parallel block owes its critical branch last, so it is undone first', async () => {
    const view = await (await begin()).run();
    expect(view.undoable).toEqual([
      'refundPayment',
      'sendCancellation',
      'retractAnalytics',
      'releaseStock',
      'cancelShipment',
    ]);
  });

  it('owes no undo for a step whose result says it did nothing: a bounced confirmation, a declined card', async () => {
    const bounced = await (
      await begin({ sendConfirmation: () => fact('notifications', 'ConfirmationBounced', { reason: 'no mailbox' }) })
    ).run();
    expect(bounced.undoable).toEqual(['refundPayment', 'retractAnalytics', 'releaseStock', 'cancelShipment']);
    await saga?.stop();
    const declined = await (
      await begin({ chargePayment: () => fact('payments', 'PaymentDeclined', { reason: 'no funds' }) })
    ).run();
    expect(declined.undoable).toBeUndefined();
    expect(declined.status).toBe('Rejected');
  });

  it('keeps going when the non-critical branches fail or bounce, and shows why', async () => {
    const app = await begin({
      sendConfirmation: () => fact('notifications', 'ConfirmationBounced', { reason: 'mailbox unknown' }),
      recordOrderFact: failing('analytics store down'),
    });
    const view = await app.run();
    expect(view.status).toBe('Completed');
    expect(view.warnings).toEqual(['confirm: mailbox unknown', 'analytics: analytics store down']);
    expect(steps(view)).toContain('confirm:warning');
    expect(steps(view)).toContain('analytics:warning');
    expect(app.callsTo('recordOrderFact')).toHaveLength(3);
  });
});

describe('validation', () => {
  it('rejects an invalid order with its reasons, before any money moves', async () => {
    const app = await begin({
      validateOrder: () => fact('orders', 'OrderInvalid', { reasons: ['unknown sku X', 'no lines'] }),
    });
    const view = await app.run();
    expect(view).toMatchObject({ status: 'Rejected', reason: 'unknown sku X; no lines', compensations: [] });
    expect(steps(view)).toEqual(['validate:failed']);
    expect(app.callsTo('chargePayment')).toEqual([]);
  });

  it('fails with nothing to undo when validation stays down past its retries', async () => {
    const app = await begin({ validateOrder: failing('catalog unavailable') });
    const view = await app.run();
    expect(view).toMatchObject({ status: 'Failed', reason: 'catalog unavailable', compensations: [] });
    expect(app.callsTo('validateOrder')).toHaveLength(3);
  });
});

describe('approval of large orders', () => {
  const large = placeOrderInput({ approvalThreshold: 400, approvalTimeoutMs: 3_600_000 });

  it('waits for a person when the total is exactly the threshold', async () => {
    const app = await begin();
    await app.start(large, { fastForward: false });
    expect(app.engine.getStatus(ids.orderId)!.runtimeStatus).toBe('Running');
    expect((app.engine.getStatus(ids.orderId)!.customStatus as OrderView).status).toBe('AwaitingApproval');
    expect(app.callsTo('chargePayment')).toEqual([]);

    await app.approve({ approved: true, approver: 'grace' });
    const view = app.output();
    expect(view.status).toBe('Completed');
    expect(steps(view).slice(0, 2)).toEqual(['validate:succeeded', 'approval:succeeded']);
    expect(progressStatuses(app)[0]).toBe('AwaitingApproval');
  });

  it('does not wait when the total is one below the threshold', async () => {
    const app = await begin();
    const view = await app.run(placeOrderInput({ approvalThreshold: 401 }));
    expect(view.status).toBe('Completed');
    expect(steps(view)).not.toContain('approval:succeeded');
    expect(progressStatuses(app)).not.toContain('AwaitingApproval');
  });

  it('rejects, with the approver named, when the person says no', async () => {
    const app = await begin();
    await app.start(large, { fastForward: false });
    await app.approve({ approved: false, approver: 'bob' });
    expect(app.output()).toMatchObject({ status: 'Rejected', reason: 'rejected by bob', compensations: [] });
    expect(app.callsTo('chargePayment')).toEqual([]);
  });

  it('rejects when the timeout passes first, exactly at the deadline in virtual time', async () => {
    const app = await begin();
    await app.start(large, { fastForward: false });
    await app.advanceTime(3_600_000 - 1);
    expect(app.engine.getStatus(ids.orderId)!.runtimeStatus).toBe('Running');
    await app.advanceTime(1);
    await app.settle();
    expect(app.output()).toMatchObject({ status: 'Rejected', reason: 'no approval decision before the timeout' });
    expect(steps(app.output())).toEqual(['validate:succeeded', 'approval:failed']);
    expect(app.callsTo('chargePayment')).toEqual([]);
  });
});

describe('payment', () => {
  it('a declined card rejects the order and refunds nothing', async () => {
    const app = await begin({
      chargePayment: () => fact('payments', 'PaymentDeclined', { reason: 'insufficient funds' }),
    });
    const view = await app.run();
    expect(view).toMatchObject({
      status: 'Rejected',
      reason: 'payment declined: insufficient funds',
      compensations: [],
    });
    expect(app.callsTo('refundPayment')).toEqual([]);
  });

  it('a voided payment (its refund ran first) is never taken as paid: the order stops there, owing no refund', async () => {
    const app = await begin({
      chargePayment: () =>
        fact('payments', 'PaymentVoided', { reason: 'the order was undone before its payment was charged' }),
    });
    const view = await app.run();
    expect(view).toMatchObject({
      status: 'Rejected',
      reason: 'payment voided: the order was undone before its payment was charged',
      compensations: [],
    });
    expect(steps(view)).toEqual(['validate:succeeded', 'pay:failed']);
    expect(view.undoable).toBeUndefined();
    expect(app.callsTo('reserveStock')).toEqual([]);
    expect(app.callsTo('refundPayment')).toEqual([]);
  });

  it('a gateway down past its retries refunds all the same, since a charge may have gone through', async () => {
    const app = await begin({ chargePayment: failing('gateway timeout'), refundPayment: nothingToUndo.refundPayment });
    const view = await app.run();
    expect(app.callsTo('chargePayment')).toHaveLength(4);
    expect(compensations(view)).toEqual(['refundPayment:skipped']);
    expect(view).toMatchObject({ status: 'Failed', reason: 'gateway timeout' });
  });
});

describe('fulfilment', () => {
  it('out of stock undoes the other branches and the payment, newest first, and releases no stock', async () => {
    const app = await begin({
      reserveStock: () => fact('inventory', 'StockUnavailable', { sku: 'LAPTOP-PRO-16', requested: 1, available: 0 }),
    });
    const view = await app.run();
    expect(view).toMatchObject({
      status: 'Compensated',
      reason: 'out of stock: LAPTOP-PRO-16 (requested 1, available 0)',
    });
    expect(compensations(view)).toEqual([
      'retractAnalytics:succeeded',
      'sendCancellation:succeeded',
      'refundPayment:succeeded',
    ]);
    expect(app.callsTo('releaseStock')).toEqual([]);
    expect(app.callsTo('createShipment')).toEqual([]);
  });

  it('a reservation that faulted is released, since it may have held some lines', async () => {
    const app = await begin({ reserveStock: failing('cosmos unavailable') });
    const view = await app.run();
    expect(view.status).toBe('Compensated');
    expect(compensations(view)).toEqual([
      'releaseStock:succeeded',
      'retractAnalytics:succeeded',
      'sendCancellation:succeeded',
      'refundPayment:succeeded',
    ]);
    expect(app.callsTo('releaseStock')).toEqual([{ ...ids, lines: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }]);
  });

  it('no cancellation email for a confirmation that bounced', async () => {
    const app = await begin({
      sendConfirmation: () => fact('notifications', 'ConfirmationBounced', { reason: 'mailbox unknown' }),
      reserveStock: () => fact('inventory', 'StockUnavailable', { sku: 'LAPTOP-PRO-16', requested: 1, available: 0 }),
    });
    const view = await app.run();
    expect(compensations(view)).toEqual(['retractAnalytics:succeeded', 'refundPayment:succeeded']);
    expect(app.callsTo('sendCancellation')).toEqual([]);
  });
});

describe('shipping and the compensations' + "' answers", () => {
  it('an address rejected undoes every step, newest first', async () => {
    const app = await begin({
      createShipment: () => fact('shipping', 'AddressRejected', { reason: 'no such street' }),
    });
    const view = await app.run();
    expect(view).toMatchObject({ status: 'Compensated', reason: 'address rejected: no such street' });
    expect(compensations(view)).toEqual([
      'releaseStock:succeeded',
      'retractAnalytics:succeeded',
      'sendCancellation:succeeded',
      'refundPayment:succeeded',
    ]);
    expect(app.callsTo('cancelShipment')).toEqual([]);
  });

  it('a carrier down past its retries also cancels the shipment, and each undo that undid says so', async () => {
    const app = await begin({ createShipment: failing('carrier 503') });
    const view = await app.run();
    expect(compensations(view)).toEqual([
      'cancelShipment:succeeded',
      'releaseStock:succeeded',
      'retractAnalytics:succeeded',
      'sendCancellation:succeeded',
      'refundPayment:succeeded',
    ]);
    expect(view.status).toBe('Compensated');
  });

  it('a compensation that found nothing to undo is reported as skipped, not as undone', async () => {
    const app = await begin({ createShipment: failing('carrier 503'), ...nothingToUndo });
    const view = await app.run();
    expect(view.compensations).toEqual(
      ['cancelShipment', 'releaseStock', 'retractAnalytics', 'sendCancellation', 'refundPayment'].map(
        (name): CompensationEntry => ({
          name: name as CompensationEntry['name'],
          status: 'skipped',
          detail: 'nothing to undo',
          at: expect.any(String),
          startedAt: expect.any(String),
        }),
      ),
    );
    // Nothing was undone, so the order simply failed.
    expect(view).toMatchObject({ status: 'Failed', reason: 'carrier 503' });
  });

  it.each(Object.keys(nothingToUndo) as (keyof typeof nothingToUndo)[])(
    'only %s found nothing to undo: only it is skipped',
    async (activity) => {
      const app = await begin({ createShipment: failing('carrier 503'), [activity]: nothingToUndo[activity] });
      const view = await app.run();
      expect(view.status).toBe('Compensated');
      expect(view.compensations.filter((entry) => entry.status === 'skipped')).toHaveLength(1);
      expect(view.compensations.filter((entry) => entry.status === 'succeeded')).toHaveLength(4);
    },
  );
});

describe('when undoing fails for good', () => {
  it('leaves the order CompensationFailed, goes on with the other undos, and sends one dead letter naming what failed', async () => {
    const app = await begin({
      createShipment: () => fact('shipping', 'AddressRejected', { reason: 'no such street' }),
      refundPayment: failing('refund API down'),
    });
    const view = await app.run();
    expect(view.status).toBe('CompensationFailed');
    expect(view.reason).toBe('address rejected: no such street; compensation failed: refundPayment');
    expect(compensations(view)).toEqual([
      'releaseStock:succeeded',
      'retractAnalytics:succeeded',
      'sendCancellation:succeeded',
      'refundPayment:failed',
    ]);
    expect(app.callsTo('refundPayment')).toHaveLength(6);
    expect(app.callsTo('deadLetterOrder')).toEqual([
      {
        ...ids,
        reason: view.reason,
        failed: [{ name: 'refundPayment', activity: 'refundPayment', input: ids, error: 'refund API down' }],
        deadLetteredAt: expect.any(String),
      },
    ]);
    expect(progressStatuses(app).at(-1)).toBe('CompensationFailed');
  });

  it('deadLetterOrder failing for good still ends the order, with the lost letter in its warnings', async () => {
    const app = await begin({
      createShipment: failing('carrier 503'),
      cancelShipment: failing('carrier 503'),
      deadLetterOrder: failing('queue unavailable'),
    });
    const view = await app.run();
    expect(app.engine.getStatus(ids.orderId)!.runtimeStatus).toBe('Completed');
    expect(view.status).toBe('CompensationFailed');
    expect(view.warnings).toEqual(['dead letter not sent: queue unavailable']);
    expect(app.callsTo('deadLetterOrder')).toHaveLength(6);
  });

  it('a dead letter sent but not recorded on the order: the saga retries the record alone, never the send', async () => {
    let records = 0;
    const app = await begin({
      createShipment: failing('carrier 503'),
      cancelShipment: failing('carrier 503'),
      deadLetterOrder: () => ({ messageId: 'dl-9', unrecorded: true }),
      // The orders database is back at the record's third attempt.
      recordDeadLetter: (input) => {
        records += 1;
        if (records < 3) throw new Error('orders db down');
        return { messageId: (input as { messageId: string }).messageId };
      },
    });
    const view = await app.run();
    expect(view.status).toBe('CompensationFailed');
    expect(app.callsTo('deadLetterOrder')).toHaveLength(1);
    const [letter] = app.callsTo('deadLetterOrder');
    expect(app.callsTo('recordDeadLetter')).toEqual(
      [1, 2, 3].map(() => ({ ...(letter as object), messageId: 'dl-9' })),
    );
    expect(view.warnings).toEqual([]);
    expect(view).not.toHaveProperty('unrecordedDeadLetter');
  });

  it('a dead letter whose record fails for good: sent once, its message named on the view for the retry route, and a warning', async () => {
    const app = await begin({
      createShipment: failing('carrier 503'),
      cancelShipment: failing('carrier 503'),
      deadLetterOrder: () => ({ messageId: 'dl-9', unrecorded: true }),
      recordDeadLetter: failing('orders db down'),
    });
    const view = await app.run();
    expect(app.engine.getStatus(ids.orderId)!.runtimeStatus).toBe('Completed');
    expect(view.status).toBe('CompensationFailed');
    expect(app.callsTo('deadLetterOrder')).toHaveLength(1);
    expect(app.callsTo('recordDeadLetter')).toHaveLength(6);
    expect(view.unrecordedDeadLetter).toEqual({ messageId: 'dl-9' });
    expect(view.warnings).toEqual([
      "dead letter not recorded on the order (message dl-9; the operator's retry records it): orders db down",
    ]);
  });

  it('recordOrderProgress failing for good never undoes a sale: the order completes, and says the document lags', async () => {
    const app = await begin({ recordOrderProgress: failing('orders db down') });
    const view = await app.run();
    expect(view.status).toBe('Completed');
    expect(view.compensations).toEqual([]);
    expect(view.warnings).toEqual([
      ...['Paying', 'Fulfilling', 'Shipping', 'Completed'].map(
        (status) => `order document not updated to ${status}: orders db down`,
      ),
      // The last of them came after the Completed write: one more write tries to bring it, once.
      'order document not updated with the warnings added after Completed: orders db down',
    ]);
    expect(app.callsTo('recordOrderProgress')).toHaveLength(5 * 5);
  });

  it('recordOrderProgress failing for good during the undo still undoes everything', async () => {
    const app = await begin({
      recordOrderProgress: failing('orders db down'),
      createShipment: () => fact('shipping', 'AddressRejected', { reason: 'no such street' }),
    });
    const view = await app.run();
    expect(view.status).toBe('Compensated');
    expect(compensations(view)).toHaveLength(4);
    expect(view.warnings.slice(-2)).toEqual([
      'order document not updated to Compensated: orders db down',
      'order document not updated with the warnings added after Compensated: orders db down',
    ]);
  });
});

describe('warnings added after the final status reach the order document', () => {
  const progressWrites = (app: StubbedSaga) =>
    app.callsTo('recordOrderProgress') as { revision: number; view: OrderView }[];

  it('a happy saga writes its final status once, with nothing after it', async () => {
    const app = await begin();
    await app.run();
    expect(progressWrites(app).map(({ revision, view }) => [revision, view.status])).toEqual([
      [1, 'Paying'],
      [2, 'Fulfilling'],
      [3, 'Shipping'],
      [4, 'Completed'],
    ]);
    // Nothing follows the announcement.
    expect(app.calls.at(-1)?.name).toBe('publishOrderOutcome');
  });

  it('a Completed order whose stock commit failed: one more write of Completed carries the warning', async () => {
    const app = await begin({ commitStock: failing('inventory down') });
    const view = await app.run();
    expect(view).toMatchObject({ status: 'Completed', warnings: ['commit stock: inventory down'] });
    const writes = progressWrites(app);
    expect(writes.map(({ revision, view }) => [revision, view.status, view.warnings])).toEqual([
      [1, 'Paying', []],
      [2, 'Fulfilling', []],
      [3, 'Shipping', []],
      [4, 'Completed', []],
      [5, 'Completed', ['commit stock: inventory down']],
    ]);
    // Written last, after the announcement, with the saga's whole view.
    expect(app.calls.at(-1)?.name).toBe('recordOrderProgress');
    expect(writes.at(-1)?.view).toEqual(view);
  });

  it('a CompensationFailed order whose dead letter could not be sent: the document gets the lost letter', async () => {
    const app = await begin({
      createShipment: failing('carrier 503'),
      cancelShipment: failing('carrier 503'),
      deadLetterOrder: failing('queue unavailable'),
    });
    const view = await app.run();
    expect(view.status).toBe('CompensationFailed');
    const [final, late] = progressWrites(app).slice(-2);
    expect([final.view.status, final.view.warnings]).toEqual(['CompensationFailed', []]);
    expect(late).toMatchObject({
      revision: final.revision + 1,
      view: { status: 'CompensationFailed', warnings: ['dead letter not sent: queue unavailable'] },
    });
  });

  it('an outcome that was not published is on the document too; a refused late write is no warning', async () => {
    let writes = 0;
    const app = await begin({
      publishOrderOutcome: failing('order-events down'),
      // The document answers the late write "stale", as it does once a repair moved it on.
      recordOrderProgress: () => ({ written: ++writes < 5 }),
    });
    const view = await app.run();
    expect(progressWrites(app)).toHaveLength(5);
    expect(progressWrites(app).at(-1)?.view.warnings).toEqual(['order outcome not published: order-events down']);
    expect(view.warnings).toEqual(['order outcome not published: order-events down']);
  });
});

describe('a restart inside abort()', () => {
  it('resumes the undo where the crash left it: each compensation recorded once, the lost one delivered again', async () => {
    const store = new MemoryInstanceStore();
    const entry = [require.resolve('../../src/services/orders/place-order.orchestrator')];
    const releases: string[] = [];
    let reached!: () => void;
    const releaseStarted = new Promise<void>((resolve) => (reached = resolve));
    const failShipping = { createShipment: failing('carrier 503') };

    const first = await startTestApp({
      entry,
      store,
      activities: {
        ...happyActivities(),
        ...failShipping,
        // The host dies while the second compensation runs: its result is never recorded.
        releaseStock: () => {
          releases.push('first host');
          reached();
          return new Promise(() => undefined);
        },
      },
    });
    first.engine.startNew('placeOrder', { instanceId: ids.orderId, input: placeOrderInput() });
    void first.settle({ fastForward: true });
    await releaseStarted;
    await first.stop();
    const before = (store.get(ids.orderId)!.customStatus as OrderView | undefined)?.compensations ?? [];
    expect(before.map(({ name, status }) => `${name}:${status}`)).toEqual([
      'cancelShipment:succeeded',
      'releaseStock:running',
    ]);

    const second = await startTestApp({
      entry,
      store,
      startTime: first.clock.now(),
      activities: {
        ...happyActivities(),
        ...failShipping,
        releaseStock: (input) => {
          releases.push('second host');
          return happyActivities().releaseStock(input, { name: 'releaseStock', count: 1 });
        },
      },
    });
    try {
      second.engine.recover();
      await second.settle({ fastForward: true });
      const status = second.engine.getStatus(ids.orderId)!;
      expect(status.runtimeStatus).toBe('Completed');
      const view = status.output as OrderView;
      expect(view.status).toBe('Compensated');
      expect(compensations(view)).toEqual([
        'cancelShipment:succeeded',
        'releaseStock:succeeded',
        'retractAnalytics:succeeded',
        'sendCancellation:succeeded',
        'refundPayment:succeeded',
      ]);
      expect(releases).toEqual(['first host', 'second host']);
    } finally {
      await second.stop();
    }
  });
});

describe('defects: an activity that answers with a defect is not retried', () => {
  it('a defect in a critical step ends it after one attempt and undoes the order, like a fault past its retries', async () => {
    const app = await begin({ createShipment: defective('shipment for order order-1 was cancelled') });
    const view = await app.run();
    expect(app.callsTo('createShipment')).toHaveLength(1);
    expect(view.status).toBe('Compensated');
    expect(view.reason).toBe('shipment for order order-1 was cancelled');
    expect(view.steps.find((entry) => entry.name === 'ship')).toMatchObject({
      status: 'failed',
      detail: 'shipment for order order-1 was cancelled',
    });
    // The step may have acted before its defect, so its undo runs too, newest first.
    expect(compensations(view)).toEqual([
      'cancelShipment:succeeded',
      'releaseStock:succeeded',
      'retractAnalytics:succeeded',
      'sendCancellation:succeeded',
      'refundPayment:succeeded',
    ]);
  });

  it('whereas a thrown error (a transient fault) is retried as its policy says', async () => {
    const app = await begin({ createShipment: failing('carrier 503') });
    await app.run();
    expect(app.callsTo('createShipment')).toHaveLength(4);
  });

  it('a defect in a non-critical branch is a warning after one attempt; the order completes', async () => {
    const app = await begin({ sendConfirmation: defective('template missing') });
    const view = await app.run();
    expect(app.callsTo('sendConfirmation')).toHaveLength(1);
    expect(view.status).toBe('Completed');
    expect(view.warnings).toEqual(['confirm: template missing']);
    expect(steps(view)).toContain('confirm:warning');
  });

  it('a defect in the critical branch of the parallel block undoes every branch, the critical one first', async () => {
    const app = await begin({ reserveStock: defective('stock document corrupt') });
    const view = await app.run();
    expect(app.callsTo('reserveStock')).toHaveLength(1);
    expect(view.status).toBe('Compensated');
    expect(compensations(view)).toEqual([
      'releaseStock:succeeded',
      'retractAnalytics:succeeded',
      'sendCancellation:succeeded',
      'refundPayment:succeeded',
    ]);
  });

  it('a defect in a compensation fails it at once and sends it to the dead-letter queue', async () => {
    const app = await begin({
      createShipment: () => fact('shipping', 'AddressRejected', { reason: 'no such street' }),
      refundPayment: defective('payment gateway: no charge under key order-1:charge to refund'),
    });
    const view = await app.run();
    expect(app.callsTo('refundPayment')).toHaveLength(1);
    expect(view.status).toBe('CompensationFailed');
    expect(compensations(view).at(-1)).toBe('refundPayment:failed');
    expect(app.callsTo('deadLetterOrder')).toEqual([
      expect.objectContaining({
        failed: [
          {
            name: 'refundPayment',
            activity: 'refundPayment',
            input: ids,
            error: 'payment gateway: no charge under key order-1:charge to refund',
          },
        ],
      }),
    ]);
  });

  it('a defect in a progress write or the outcome publish is a warning, never an undo', async () => {
    const app = await begin({
      recordOrderProgress: defective('view rejected'),
      publishOrderOutcome: defective('fact rejected'),
    });
    const view = await app.run();
    expect(view.status).toBe('Completed');
    // The four status writes, and the one that tries to bring the warnings after Completed: each once.
    expect(app.callsTo('recordOrderProgress')).toHaveLength(5);
    expect(view.warnings).toEqual([
      'order document not updated to Paying: view rejected',
      'order document not updated to Fulfilling: view rejected',
      'order document not updated to Shipping: view rejected',
      'order document not updated to Completed: view rejected',
      'order outcome not published: fact rejected',
      'order document not updated with the warnings added after Completed: view rejected',
    ]);
    expect(app.callsTo('publishOrderOutcome')).toHaveLength(1);
  });
});

describe('the orchestration input', () => {
  it('is parsed once on entry: a malformed input fails the instance with a clear message before any step runs', async () => {
    const app = await begin();
    const input = placeOrderInput();
    await app.start({ ...input, order: { ...input.order, items: 'two laptops' } } as unknown as typeof input);
    const status = app.engine.getStatus(ids.orderId)!;
    expect(status.runtimeStatus).toBe('Failed');
    expect(JSON.stringify(status.output)).toMatch(/placeOrder: malformed input: .*items/);
    expect(app.calls).toEqual([]);
  });
});
