/**
 * Replay tests: hand-written Durable Task histories fed to the placeOrder orchestrator through the
 * real durable-functions SDK, one episode at a time, asserting exactly which actions each episode
 * schedules. A change that makes the orchestrator schedule something else, in another order, or
 * read anything non-deterministic shows up here as a different action list.
 */
import { ActionType, flattenActions, type SdkAction } from '../../local/engine/actions';
import { events, type HistoryEvent } from '../../local/engine/history';
import { startTestApp, type TestApp } from '../../local/engine/testing';
import { defect } from '../../src/libs/activity';
import { factType } from '../../src/libs/events';
import type { OrderView, PlaceOrderInput } from '../../src/services/orders/order-view';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ entry: require.resolve('../../src/index') });
});
afterAll(async () => {
  await app?.stop();
});

const ids = { orderId: 'order-1', correlationId: 'corr-1' };
const lines = [{ sku: 'LAPTOP-PRO-16', quantity: 1, name: 'Laptop', unitPrice: 1899, lineTotal: 1899 }];
const input: PlaceOrderInput = {
  order: {
    type: factType('orders', 'OrderPlaced'),
    ...ids,
    customerId: 'ada',
    customerEmail: 'ada@example.com',
    currency: 'EUR',
    items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }],
    paymentToken: 'tok_visa',
    shippingAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
    placedAt: '2026-01-01T00:00:00.000Z',
  },
  policy: { approvalThreshold: 1000, approvalTimeoutMs: 24 * 3600_000 },
};

const facts = {
  validated: { type: factType('orders', 'OrderValidated'), ...ids, lines, total: 1899, currency: 'EUR' },
  progress: { written: true },
  published: { messageId: 'q-1', type: factType('orders', 'OrderCompleted') },
  charged: { type: factType('payments', 'PaymentCharged'), ...ids, paymentId: 'pay-1', amount: 1899, currency: 'EUR' },
  reserved: { type: factType('inventory', 'StockReserved'), ...ids, lines: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] },
  unavailable: {
    type: factType('inventory', 'StockUnavailable'),
    ...ids,
    sku: 'LAPTOP-PRO-16',
    requested: 1,
    available: 0,
  },
  confirmed: { type: factType('notifications', 'ConfirmationSent'), ...ids, messageId: 'm-1' },
  recorded: { type: factType('analytics', 'OrderRecorded'), ...ids },
  shipped: { type: factType('shipping', 'ShipmentCreated'), ...ids, trackingNumber: 'T-1', carrier: 'sim' },
  refunded: { type: factType('payments', 'PaymentRefunded'), ...ids, refundId: 'r-1', amount: 1899 },
  cancelled: { type: factType('notifications', 'CancellationSent'), ...ids, messageId: 'm-2' },
  retracted: { type: factType('analytics', 'OrderRetracted'), ...ids, wasRecorded: true },
  committed: {
    type: factType('inventory', 'StockCommitted'),
    ...ids,
    committed: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }],
  },
  releasedNothing: { type: factType('inventory', 'StockReleased'), ...ids, released: [] },
};

/**
 * Plays the host's part by hand: records what each episode scheduled under the ids the SDK gives
 * out (a counter in scheduling order; a retry takes one id for its timer and one for each new
 * attempt, before anything the episode schedules), and appends the events a test chooses.
 */
class Script {
  private readonly history: HistoryEvent[] = [];
  private readonly open = new Map<string, number>();
  private readonly retryTimers = new Map<string, number>();
  private actionsSeen = 0;
  private nextId = 0;
  private reserved: { kind: 'timer' | 'attempt'; name: string }[] = [];
  private clock = Date.parse('2026-01-01T00:00:00Z');
  result: { isDone: boolean; output?: unknown; actions: SdkAction[] } = { isDone: false, actions: [] };

  constructor() {
    this.history.push(
      events.orchestratorStarted(this.now()),
      events.executionStarted(this.now(), 'placeOrder', JSON.stringify(input)),
    );
  }

  /** Runs one episode; returns what it newly scheduled, as `Kind name`. */
  async episode(): Promise<string[]> {
    const { outcome, actions } = await app.replay('placeOrder', this.history, { input, instanceId: ids.orderId });
    if (!outcome.ok) throw new Error(outcome.message);
    for (const { kind, name } of this.reserved) {
      const id = this.nextId++;
      if (kind === 'timer') {
        this.retryTimers.set(name, id);
        this.history.push(events.timerCreated(this.now(), id, this.now().toISOString()));
      } else {
        this.open.set(name, id);
        this.history.push(events.taskScheduled(this.now(), id, name, undefined));
      }
    }
    this.reserved = [];
    const flat = flattenActions(actions);
    const fresh = flat.slice(this.actionsSeen);
    this.actionsSeen = flat.length;
    for (const action of fresh) {
      if (action.actionType === ActionType.WaitForExternalEvent) continue;
      const id = this.nextId++;
      if (action.actionType === ActionType.CreateTimer) {
        this.open.set('timer', id);
        this.history.push(events.timerCreated(this.now(), id, String(action.fireAt)));
      } else {
        this.open.set(action.functionName!, id);
        this.history.push(events.taskScheduled(this.now(), id, action.functionName!, JSON.stringify(action.input)));
      }
    }
    this.history.push(events.orchestratorCompleted(this.now()));
    this.result = { isDone: outcome.state.isDone, output: outcome.state.output, actions: flat };
    return fresh.map(describe);
  }

  complete(name: string, result: unknown): this {
    return this.deliver(events.taskCompleted(this.now(), this.take(name), JSON.stringify(result)));
  }

  /** A transient failure: the SDK will wait for a retry timer, which the host creates. */
  fail(name: string, message: string): this {
    this.deliver(events.taskFailed(this.now(), this.take(name), { reason: message, details: '' }));
    this.reserved.push({ kind: 'timer', name });
    return this;
  }

  /** The retry timer fires; unless attempts are exhausted, the host schedules the next attempt. */
  fireRetryTimer(name: string, { attemptsLeft }: { attemptsLeft: boolean }): this {
    const id = this.retryTimers.get(name)!;
    this.deliver(events.timerFired(this.now(), id, this.now().toISOString()));
    if (attemptsLeft) this.reserved.push({ kind: 'attempt', name });
    return this;
  }

  raise(name: string, data: unknown): this {
    return this.deliver(events.eventRaised(this.now(), name, JSON.stringify(data)));
  }

  fireTimer(): this {
    return this.deliver(events.timerFired(this.now(), this.take('timer'), this.now().toISOString()));
  }

  /** The approval timer and the approval event arrive in one episode, in the order given. */
  timerAndEvent(first: 'timer' | 'event', name: string, data: unknown): this {
    this.clock += 1000;
    const fired = {
      ...events.timerFired(this.now(), this.take('timer'), this.now().toISOString()),
      Timestamp: this.now().toISOString(),
    };
    const raised = {
      ...events.eventRaised(this.now(), name, JSON.stringify(data)),
      Timestamp: this.now().toISOString(),
    };
    this.history.push(
      events.orchestratorStarted(this.now()),
      ...(first === 'timer' ? [fired, raised] : [raised, fired]),
    );
    return this;
  }

  advance(ms: number): this {
    this.clock += ms;
    return this;
  }

  private deliver(event: HistoryEvent): this {
    this.clock += 1000;
    this.history.push(events.orchestratorStarted(this.now()), { ...event, Timestamp: this.now().toISOString() });
    return this;
  }

  private take(name: string): number {
    const id = this.open.get(name);
    if (id === undefined) throw new Error(`nothing named ${name} is scheduled`);
    this.open.delete(name);
    return id;
  }

  private now(): Date {
    return new Date(this.clock);
  }
}

function describe(action: SdkAction): string {
  const kind = ActionType[action.actionType];
  if (action.actionType === ActionType.WaitForExternalEvent) return `${kind} ${action.externalEventName}`;
  if (action.actionType === ActionType.CreateTimer) return `${kind}`;
  const input = action.input as { view?: OrderView } | undefined;
  return input?.view ? `${kind} ${action.functionName} → ${input.view.status}` : `${kind} ${action.functionName}`;
}

const call = (name: string) => `CallActivityWithRetry ${name}`;
const progress = (status: string) => `CallActivityWithRetry recordOrderProgress → ${status}`;

test('the happy path of a large order: approval, a retried payment, the parallel step, shipping', async () => {
  const script = new Script();
  expect(await script.episode()).toEqual([call('validateOrder')]);
  expect(await script.complete('validateOrder', facts.validated).episode()).toEqual([progress('AwaitingApproval')]);
  expect(await script.complete('recordOrderProgress', facts.progress).episode()).toEqual([
    'WaitForExternalEvent ApprovalDecision',
    'CreateTimer',
  ]);
  // The deadline is orchestration time (the episode's OrchestratorStarted) plus the policy's 24 h, never the wall clock.
  // It is fixed when the order starts waiting (the validation's episode), and shown with AwaitingApproval.
  expect(
    new Date(
      script.result.actions.find((action) => action.actionType === ActionType.CreateTimer)!.fireAt!,
    ).toISOString(),
  ).toBe('2026-01-02T00:00:01.000Z');
  // A malformed decision is no decision: the saga waits on, until the same deadline (a new timer: no task is yielded twice).
  expect(await script.raise('ApprovalDecision', { approved: true, approver: '' }).episode()).toEqual([
    'WaitForExternalEvent ApprovalDecision',
    'CreateTimer',
  ]);
  const timers = script.result.actions.filter((action) => action.actionType === ActionType.CreateTimer);
  expect(timers.map((timer) => new Date(timer.fireAt!).toISOString())).toEqual([
    '2026-01-02T00:00:01.000Z',
    '2026-01-02T00:00:01.000Z',
  ]);
  const decision = { approved: true, approver: 'grace', decidedAt: '2026-01-01T01:00:00.000Z' };
  expect(await script.raise('ApprovalDecision', decision).episode()).toEqual([call('settleApproval')]);
  expect(
    script.result.actions
      .filter((action) => action.actionType === ActionType.CreateTimer)
      .every((timer) => timer.isCanceled),
  ).toBe(true);
  expect(script.result.actions.find((action) => action.functionName === 'settleApproval')?.input).toEqual({
    ...ids,
    proposed: decision,
    deadline: '2026-01-02T00:00:01.000Z',
  });
  // Each progress write goes out with the step it announces, not before it.
  expect(await script.complete('settleApproval', decision).episode()).toEqual([
    call('chargePayment'),
    progress('Paying'),
  ]);
  expect(await script.complete('recordOrderProgress', facts.progress).episode()).toEqual([]);

  // A transient failure schedules nothing: the host waits out the backoff and tries again.
  expect(await script.fail('chargePayment', 'gateway timeout').episode()).toEqual([]);
  expect(await script.fireRetryTimer('chargePayment', { attemptsLeft: true }).episode()).toEqual([]);
  expect(await script.complete('chargePayment', facts.charged).episode()).toEqual([
    call('reserveStock'),
    call('sendConfirmation'),
    call('recordOrderFact'),
    progress('Fulfilling'),
  ]);
  expect(await script.complete('sendConfirmation', facts.confirmed).episode()).toEqual([]);
  expect(await script.complete('reserveStock', facts.reserved).episode()).toEqual([]);
  expect(await script.complete('recordOrderFact', facts.recorded).episode()).toEqual([]);
  expect(await script.complete('recordOrderProgress', facts.progress).episode()).toEqual([
    call('createShipment'),
    progress('Shipping'),
  ]);
  expect(await script.complete('recordOrderProgress', facts.progress).episode()).toEqual([]);
  // The sale is final: the holds fold into sold units beside the last progress write.
  expect(await script.complete('createShipment', facts.shipped).episode()).toEqual([
    call('commitStock'),
    progress('Completed'),
  ]);
  expect(await script.complete('commitStock', facts.committed).episode()).toEqual([]);
  // The ending is announced last, as a fact on the order-events queue; nothing waits for its consumers.
  expect(await script.complete('recordOrderProgress', facts.progress).episode()).toEqual([call('publishOrderOutcome')]);
  expect(await script.complete('publishOrderOutcome', facts.published).episode()).toEqual([]);
  expect(script.result.isDone).toBe(true);
  expect(script.result.output).toMatchObject({ status: 'Completed', total: 1899, warnings: [] });
});

test('the approval timer firing first rejects the order and schedules no payment', async () => {
  const script = new Script();
  await script.episode();
  await script.complete('validateOrder', facts.validated).episode();
  await script.complete('recordOrderProgress', facts.progress).episode();
  expect(
    await script
      .advance(24 * 3600_000)
      .fireTimer()
      .episode(),
  ).toEqual([call('settleApproval')]);
  expect(
    await script.complete('settleApproval', { timedOut: true, decidedAt: '2026-01-02T00:00:01.000Z' }).episode(),
  ).toEqual([progress('Rejected')]);
  expect(await script.complete('recordOrderProgress', facts.progress).episode()).toEqual([call('publishOrderOutcome')]);
  await script.complete('publishOrderOutcome', facts.published).episode();
  expect(script.result.output).toMatchObject({
    status: 'Rejected',
    reason: 'no approval decision before the timeout',
    approval: { decision: { timedOut: true } },
  });
});

test('a decision the order document took before the timer fired stands over the timeout', async () => {
  const script = new Script();
  await script.episode();
  await script.complete('validateOrder', facts.validated).episode();
  await script.complete('recordOrderProgress', facts.progress).episode();
  await script
    .advance(24 * 3600_000)
    .fireTimer()
    .episode();
  const recorded = { approved: true, approver: 'grace', decidedAt: '2026-01-01T23:59:59.000Z' };
  expect(await script.complete('settleApproval', recorded).episode()).toEqual([
    call('chargePayment'),
    progress('Paying'),
  ]);
  const paying = script.result.actions.find(
    (action) =>
      action.functionName === 'recordOrderProgress' && (action.input as { view: OrderView }).view.status === 'Paying',
  );
  const { view } = paying!.input as { view: OrderView };
  expect(view.approval).toMatchObject({ decision: recorded });
  // The write goes out beside the payment, so the pay step is in it too (running).
  expect(view.steps.map(({ name, status, detail }) => ({ name, status, detail }))).toEqual([
    { name: 'validate', status: 'succeeded', detail: undefined },
    { name: 'approval', status: 'succeeded', detail: 'approved by grace' },
    { name: 'pay', status: 'running', detail: undefined },
  ]);
});

{
  // The approval timer and the decision in the same episode.
  const untilApproval = async () => {
    const script = new Script();
    await script.episode();
    await script.complete('validateOrder', facts.validated).episode();
    await script.complete('recordOrderProgress', facts.progress).episode();
    return script.advance(24 * 3600_000);
  };

  test('the timer and the decision in one episode: the timer recorded first wins, and a late approval does not revive the order', async () => {
    const script = await untilApproval();
    const late = { approved: true, approver: 'grace', decidedAt: '2026-01-02T00:00:01.000Z' };
    // The saga proposes the timeout; the order document says which decision stands (here: the timeout).
    expect(await script.timerAndEvent('timer', 'ApprovalDecision', late).episode()).toEqual([call('settleApproval')]);
    expect(script.result.actions.find((action) => action.functionName === 'settleApproval')?.input).toMatchObject({
      proposed: { timedOut: true },
    });
    expect(
      await script.complete('settleApproval', { timedOut: true, decidedAt: '2026-01-02T00:00:01.000Z' }).episode(),
    ).toEqual([progress('Rejected')]);
    await script.complete('recordOrderProgress', facts.progress).episode();
    await script.complete('publishOrderOutcome', facts.published).episode();
    expect(script.result.output).toMatchObject({
      status: 'Rejected',
      reason: 'no approval decision before the timeout',
    });
  });

  test('the timer and the decision in one episode: the decision recorded first wins, and the order is paid', async () => {
    const script = await untilApproval();
    const decision = { approved: true, approver: 'grace', decidedAt: '2026-01-01T23:59:59.000Z' };
    expect(await script.timerAndEvent('event', 'ApprovalDecision', decision).episode()).toEqual([
      call('settleApproval'),
    ]);
    expect(script.result.actions.find((action) => action.functionName === 'settleApproval')?.input).toMatchObject({
      proposed: decision,
    });
    expect(await script.complete('settleApproval', decision).episode()).toEqual([
      call('chargePayment'),
      progress('Paying'),
    ]);
  });
}

test('a critical branch that fails first still waits for the others, then undoes exactly those that succeeded, newest first', async () => {
  const script = new Script();
  await script.episode();
  expect(await script.complete('validateOrder', { ...facts.validated, total: 10 }).episode()).toEqual([
    call('chargePayment'),
    progress('Paying'),
  ]);
  await script.complete('recordOrderProgress', facts.progress).episode();
  await script.complete('chargePayment', facts.charged).episode();

  // reserveStock exhausts its four attempts while the other branches are still running.
  for (let attempt = 1; attempt <= 4; attempt += 1) {
    expect(await script.fail('reserveStock', 'cosmos unavailable').episode()).toEqual([]);
    expect(await script.fireRetryTimer('reserveStock', { attemptsLeft: attempt < 4 }).episode()).toEqual([]);
  }
  expect(await script.complete('sendConfirmation', facts.confirmed).episode()).toEqual([]);
  // Every branch has settled; the Fulfilling write is still out, and the saga waits for it too.
  expect(await script.complete('recordOrderFact', facts.recorded).episode()).toEqual([]);
  // The order says Compensating while it undoes (written beside the first compensation); the
  // faulted reservation may have held some lines: its release runs first.
  expect(await script.complete('recordOrderProgress', facts.progress).episode()).toEqual([
    call('releaseStock'),
    progress('Compensating'),
  ]);
  expect(await script.complete('recordOrderProgress', facts.progress).episode()).toEqual([]);
  expect(await script.complete('releaseStock', facts.releasedNothing).episode()).toEqual([call('retractOrderFact')]);
  expect(await script.complete('retractOrderFact', facts.retracted).episode()).toEqual([call('sendCancellation')]);
  expect(await script.complete('sendCancellation', facts.cancelled).episode()).toEqual([call('refundPayment')]);
  expect(await script.complete('refundPayment', facts.refunded).episode()).toEqual([progress('Compensated')]);
  await script.complete('recordOrderProgress', facts.progress).episode();
  await script.complete('publishOrderOutcome', facts.published).episode();
  expect(script.result.output).toMatchObject({
    status: 'Compensated',
    compensations: [
      { name: 'releaseStock', status: 'skipped' },
      { name: 'retractAnalytics', status: 'succeeded' },
      { name: 'sendCancellation', status: 'succeeded' },
      { name: 'refundPayment', status: 'succeeded' },
    ],
  });
});

test('out of stock is a business outcome: no retry, and the stock itself is not released', async () => {
  const script = new Script();
  await script.episode();
  await script.complete('validateOrder', { ...facts.validated, total: 10 }).episode();
  await script.complete('recordOrderProgress', facts.progress).episode();
  await script.complete('chargePayment', facts.charged).episode();
  await script.complete('recordOrderProgress', facts.progress).episode();
  expect(await script.complete('reserveStock', facts.unavailable).episode()).toEqual([]);
  await script.complete('sendConfirmation', facts.confirmed).episode();
  expect(await script.complete('recordOrderFact', facts.recorded).episode()).toEqual([
    call('retractOrderFact'),
    progress('Compensating'),
  ]);
  expect(await script.complete('recordOrderProgress', facts.progress).episode()).toEqual([]);
  await script.complete('retractOrderFact', facts.retracted).episode();
  await script.complete('sendCancellation', facts.cancelled).episode();
  expect(await script.complete('refundPayment', facts.refunded).episode()).toEqual([progress('Compensated')]);
});

test('warnings after the final status: one more write of it, scheduled after the announcement, and only then', async () => {
  const script = new Script();
  await script.episode();
  await script.complete('validateOrder', { ...facts.validated, total: 10 }).episode();
  await script.complete('recordOrderProgress', facts.progress).episode();
  await script.complete('chargePayment', facts.charged).episode();
  await script.complete('recordOrderProgress', facts.progress).episode();
  await script.complete('reserveStock', facts.reserved).episode();
  await script.complete('sendConfirmation', facts.confirmed).episode();
  await script.complete('recordOrderFact', facts.recorded).episode();
  await script.complete('recordOrderProgress', facts.progress).episode();
  expect(await script.complete('createShipment', facts.shipped).episode()).toEqual([
    call('commitStock'),
    progress('Completed'),
  ]);
  // What a write carries is its input in the episode that scheduled it (later episodes rebuild it).
  const lastWrite = () =>
    script.result.actions.filter((action) => action.functionName === 'recordOrderProgress').at(-1)!.input as {
      revision: number;
      view: OrderView;
    };
  const final = lastWrite();
  // Up to here, and through the announcement, exactly what a happy saga schedules (the test above).
  const commitDefect = defect('commitStock', 'holds not found', 'Error', ids);
  expect(await script.complete('commitStock', commitDefect).episode()).toEqual([]);
  expect(await script.complete('recordOrderProgress', facts.progress).episode()).toEqual([call('publishOrderOutcome')]);
  expect(await script.complete('publishOrderOutcome', facts.published).episode()).toEqual([progress('Completed')]);
  const late = lastWrite();
  expect([final.revision, final.view.warnings]).toEqual([4, []]);
  expect([late.revision, late.view.warnings]).toEqual([5, ['commit stock: holds not found']]);
  expect(script.result.isDone).toBe(false);
  expect(await script.complete('recordOrderProgress', facts.progress).episode()).toEqual([]);
  expect(script.result.isDone).toBe(true);
  expect(script.result.output).toMatchObject({ status: 'Completed', warnings: ['commit stock: holds not found'] });
});
