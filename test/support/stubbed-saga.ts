/**
 * The middle test layer for the orchestrators: only the orchestrator modules are loaded, and every
 * activity is a stub by its registered name, on virtual time. No Cosmos, no queues, no magic
 * payment tokens: a test says what each activity answers, and reads what the saga did with it.
 *
 *   const saga = await startStubbedSaga({ chargePayment: () => fact('payments', 'PaymentDeclined', { reason: 'no funds' }) });
 *   const view = await saga.run();
 */
import { startTestApp, type ActivityStub, type TestApp } from '../../local/engine/testing';
import { defect } from '../../src/libs/activity';
import { factType } from '../../src/libs/events';
import { APPROVAL_EVENT, PLACE_ORDER_ORCHESTRATION } from '../../src/services/orders/contract';
import type { OrderView, PlaceOrderInput } from '../../src/services/orders/order-view';

export const ids = { orderId: 'order-1', correlationId: 'corr-1' };
export const lines = [{ sku: 'LAPTOP-PRO-16', quantity: 1, name: 'Laptop', unitPrice: 400, lineTotal: 400 }];

/** A fact as a context would return it, for the order under test. */
export const fact = (context: string, name: string, fields: Record<string, unknown> = {}) => ({
  type: factType(context, name),
  ...ids,
  ...fields,
});

export const placeOrderInput = (policy: Partial<PlaceOrderInput['policy']> = {}): PlaceOrderInput => ({
  order: {
    type: factType('orders', 'OrderPlaced'),
    ...ids,
    customerId: 'ada',
    customerEmail: 'ada@example.com',
    currency: 'EUR',
    items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }],
    paymentToken: 'tok_any',
    shippingAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
    placedAt: '2026-01-01T00:00:00.000Z',
  },
  policy: { approvalThreshold: 1000, approvalTimeoutMs: 24 * 3600_000, ...policy },
});

/** Every activity the sagas call, answering as on a good day. */
export const happyActivities = (): Record<string, ActivityStub> => ({
  validateOrder: () => fact('orders', 'OrderValidated', { lines, total: 400, currency: 'EUR' }),
  recordOrderProgress: () => ({ written: true }),
  chargePayment: () => fact('payments', 'PaymentCharged', { paymentId: 'pay-1', amount: 400, currency: 'EUR' }),
  refundPayment: () => fact('payments', 'PaymentRefunded', { refundId: 'ref-1', amount: 400 }),
  reserveStock: () => fact('inventory', 'StockReserved', { lines: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
  releaseStock: () => fact('inventory', 'StockReleased', { released: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
  sendConfirmation: () => fact('notifications', 'ConfirmationSent', { messageId: 'msg-1' }),
  sendCancellation: () => fact('notifications', 'CancellationSent', { messageId: 'msg-2' }),
  recordOrderFact: () => fact('analytics', 'OrderRecorded'),
  retractOrderFact: () => fact('analytics', 'OrderRetracted', { wasRecorded: true }),
  createShipment: () => fact('shipping', 'ShipmentCreated', { trackingNumber: 'T-1', carrier: 'sim' }),
  cancelShipment: () => fact('shipping', 'ShipmentCancelled', { wasCreated: true }),
  deadLetterOrder: () => ({ messageId: 'dl-1' }),
  recordDeadLetter: (input) => ({ messageId: (input as { messageId: string }).messageId }),
  recordRepairOutcome: () => ({ repaired: true }),
  commitStock: () => fact('inventory', 'StockCommitted', { committed: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
  publishOrderOutcome: () => ({ messageId: 'evt-1', type: factType('orders', 'OrderCompleted') }),
  // The order document takes the first decision proposed: here, whatever the saga proposes.
  settleApproval: (input) => (input as { proposed: unknown }).proposed,
});

/** An activity that always fails, as a dependency that stays down past every retry. */
export const failing =
  (message = 'dependency down'): ActivityStub =>
  () => {
    throw new Error(message);
  };

/**
 * An activity that answers with a defect, as the activity wrapper does for anything but a
 * transient fault (a malformed command, a bug): a value after one attempt, never retried.
 */
export const defective =
  (reason = 'a bug'): ActivityStub =>
  (_input, call) =>
    defect(call.name, reason, 'Error', ids);

export interface Call {
  name: string;
  input: unknown;
}

export interface StubbedSaga extends TestApp {
  /** Every activity call, in the order the stubs ran. */
  calls: Call[];
  callsTo(name: string): unknown[];
  /**
   * Starts placeOrder for the order and runs it until nothing is runnable, skipping virtual time
   * through retries and timers unless `fastForward` is false (to stop at the approval wait).
   */
  start(input?: PlaceOrderInput, options?: { fastForward?: boolean }): Promise<void>;
  /** `start`, then the orchestration's output; fails when it did not complete. */
  run(input?: PlaceOrderInput): Promise<OrderView>;
  output(): OrderView;
  /** Raises a well-formed decision (decidedAt: the orchestration's clock, unless given). */
  approve(decision: { approved: boolean; approver: string; decidedAt?: string }): Promise<void>;
}

export async function startStubbedSaga(overrides: Record<string, ActivityStub> = {}): Promise<StubbedSaga> {
  const calls: Call[] = [];
  const activities = Object.fromEntries(
    Object.entries({ ...happyActivities(), ...overrides }).map(([name, stub]): [string, ActivityStub] => [
      name,
      (input, call) => {
        calls.push({ name, input });
        return stub(input, call);
      },
    ]),
  );
  const app = await startTestApp({
    entry: [
      require.resolve('../../src/services/orders/place-order.orchestrator'),
      require.resolve('../../src/services/orders/repair-order.orchestrator'),
    ],
    activities,
  });
  const output = () => {
    const status = app.engine.getStatus(ids.orderId);
    if (status?.runtimeStatus !== 'Completed') throw new Error(`placeOrder is ${status?.runtimeStatus}, not Completed`);
    return status.output as OrderView;
  };
  const start = async (input = placeOrderInput(), { fastForward = true } = {}) => {
    app.engine.startNew(PLACE_ORDER_ORCHESTRATION, { instanceId: ids.orderId, input });
    await app.settle({ fastForward });
  };
  return {
    ...app,
    calls,
    callsTo: (name) => calls.filter((entry) => entry.name === name).map((entry) => entry.input),
    start,
    async run(input) {
      await start(input);
      return output();
    },
    output,
    async approve(decision) {
      const decidedAt = decision.decidedAt ?? new Date(app.clock.now()).toISOString();
      expect(app.engine.raiseEvent(ids.orderId, APPROVAL_EVENT, { ...decision, decidedAt })).toBe('accepted');
      await app.settle({ fastForward: true });
    },
  };
}
