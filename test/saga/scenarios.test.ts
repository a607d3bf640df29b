/**
 * The scenario table: every knob of the simulated providers → the order's final status, its
 * step log, its compensations in order, and what is left in each context's database.
 * The saga runs through the real durable-functions SDK, driven by local/engine/ on virtual time.
 */
import { Items } from '@azure/cosmos';
import { readFact } from '../../src/services/analytics/repository';
import { readStock } from '../../src/services/inventory/repository';
import { listMessages, messageDocumentId, readMailerLogEntry } from '../../src/services/notifications/repository';
import { RetryPolicies } from '../../src/services/orders/retry-policies';
import { bookingKey } from '../../src/services/shipping/create-shipment';
import { gatewayTotals } from '../support/gateway-ledger';
import { readOrder } from '../../src/services/orders/repository';
import { readCarrierBooking, readShipment } from '../../src/services/shipping/repository';
import { simulatedCarrier } from '../../src/services/shipping/simulated-carrier';
import { orderRequest, rejectedAddress, uniqueOrderId, type OrderRequest } from '../support/orders';
import { asApprover } from '../support/principals';
import { startSagaApp, type SagaApp } from '../support/saga-app';

jest.setTimeout(120_000);

let app: SagaApp;
beforeAll(async () => {
  app = await startSagaApp();
});
afterAll(async () => {
  await app?.stop();
});

interface Expected {
  status: string;
  steps: [string, string][];
  compensations: [string, string][];
  warnings?: RegExp[];
  charged: number;
  refunded: number;
  /** sku → units taken off the shelf once the order settled */
  stockTaken: Record<string, number>;
  messages: string[];
  analytics: 'recorded' | 'retracted' | 'none';
  shipment: 'created' | 'none';
  approve?: boolean;
}

const ok = 'succeeded';
const happySteps: [string, string][] = [
  ['validate', ok],
  ['pay', ok],
  ['reserve', ok],
  ['confirm', ok],
  ['analytics', ok],
  ['ship', ok],
];
/** The default order (two MOUSE-ERGO, 159 EUR) completed with every step done. */
const completed: Expected = {
  status: 'Completed',
  steps: happySteps,
  compensations: [],
  charged: 159,
  refunded: 0,
  stockTaken: { 'MOUSE-ERGO': 2 },
  messages: ['confirmation'],
  analytics: 'recorded',
  shipment: 'created',
};
const allUndone: [string, string][] = [
  ['releaseStock', ok],
  ['retractAnalytics', ok],
  ['sendCancellation', ok],
  ['refundPayment', ok],
];

const scenarios: [string, Partial<OrderRequest>, Expected][] = [
  ['tok_visa charges and ships', {}, completed],
  [
    'tok_declined is rejected with nothing to undo',
    { payment: { token: 'tok_declined' } },
    {
      status: 'Rejected',
      steps: [
        ['validate', ok],
        ['pay', 'failed'],
      ],
      compensations: [],
      charged: 0,
      refunded: 0,
      stockTaken: { 'MOUSE-ERGO': 0 },
      messages: [],
      analytics: 'none',
      shipment: 'none',
    },
  ],
  ['tok_flaky is retried and charged once', { payment: { token: 'tok_flaky' } }, completed],
  [
    'tok_gateway_down fails after its retries; the refund that checks finds nothing to undo',
    { payment: { token: 'tok_gateway_down' } },
    {
      status: 'Failed',
      steps: [
        ['validate', ok],
        ['pay', 'failed'],
      ],
      compensations: [['refundPayment', 'skipped']],
      charged: 0,
      refunded: 0,
      stockTaken: { 'MOUSE-ERGO': 0 },
      messages: [],
      analytics: 'none',
      shipment: 'none',
    },
  ],
  [
    'an address the carrier rejects undoes everything, newest first',
    { shippingAddress: rejectedAddress },
    {
      status: 'Compensated',
      steps: [...happySteps.slice(0, 5), ['ship', 'failed']],
      compensations: allUndone,
      charged: 159,
      refunded: 159,
      stockTaken: { 'MOUSE-ERGO': 0 },
      messages: ['cancellation', 'confirmation'],
      analytics: 'retracted',
      shipment: 'none',
    },
  ],
  [
    'tok_refund_fails leaves CompensationFailed, and the other compensations still run',
    {
      payment: { token: 'tok_refund_fails' },
      shippingAddress: rejectedAddress,
    },
    {
      status: 'CompensationFailed',
      steps: [...happySteps.slice(0, 5), ['ship', 'failed']],
      compensations: [
        ['releaseStock', ok],
        ['retractAnalytics', ok],
        ['sendCancellation', ok],
        ['refundPayment', 'failed'],
      ],
      charged: 159,
      refunded: 0,
      stockTaken: { 'MOUSE-ERGO': 0 },
      messages: ['cancellation', 'confirmation'],
      analytics: 'retracted',
      shipment: 'none',
    },
  ],
  [
    'more than the stock is out of stock: the payment and the parallel successes are undone',
    { items: [{ sku: 'LAPTOP-PRO-16', quantity: 6 }] },
    {
      approve: true,
      status: 'Compensated',
      steps: [
        ['validate', ok],
        ['approval', ok],
        ['pay', ok],
        ['reserve', 'failed'],
        ['confirm', ok],
        ['analytics', ok],
      ],
      compensations: [
        ['retractAnalytics', ok],
        ['sendCancellation', ok],
        ['refundPayment', ok],
      ],
      charged: 11394,
      refunded: 11394,
      stockTaken: { 'LAPTOP-PRO-16': 0 },
      messages: ['cancellation', 'confirmation'],
      analytics: 'retracted',
      shipment: 'none',
    },
  ],
  [
    'a bouncing email is a warning, not a failure',
    { customerEmail: 'ada@bounce.test' },
    {
      ...completed,
      steps: happySteps.map(([name]) => [name, name === 'confirm' ? 'warning' : ok]),
      warnings: [/^confirm: /],
      messages: [],
    },
  ],
  [
    'analytics being down is a warning, not a failure',
    { customerId: 'analytics-down' },
    {
      ...completed,
      steps: happySteps.map(([name]) => [name, name === 'analytics' ? 'warning' : ok]),
      warnings: [/^analytics: /],
      analytics: 'none',
    },
  ],
  [
    'a bounced confirmation is not followed by a cancellation',
    {
      customerEmail: 'ada@bounce.test',
      shippingAddress: rejectedAddress,
    },
    {
      status: 'Compensated',
      steps: [...happySteps.slice(0, 3), ['confirm', 'warning'], ['analytics', ok], ['ship', 'failed']],
      compensations: [
        ['releaseStock', ok],
        ['retractAnalytics', ok],
        ['refundPayment', ok],
      ],
      warnings: [/^confirm: /],
      charged: 159,
      refunded: 159,
      stockTaken: { 'MOUSE-ERGO': 0 },
      messages: [],
      analytics: 'retracted',
      shipment: 'none',
    },
  ],
  [
    'an unknown sku is rejected at validation',
    { items: [{ sku: 'NO-SUCH-SKU', quantity: 1 }] },
    {
      status: 'Rejected',
      steps: [['validate', 'failed']],
      compensations: [],
      charged: 0,
      refunded: 0,
      stockTaken: {},
      messages: [],
      analytics: 'none',
      shipment: 'none',
    },
  ],
  [
    'a large order waits for approval, then completes',
    { items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] },
    {
      approve: true,
      status: 'Completed',
      steps: [['validate', ok], ['approval', ok], ...happySteps.slice(1)],
      compensations: [],
      charged: 1899,
      refunded: 0,
      stockTaken: { 'LAPTOP-PRO-16': 1 },
      messages: ['confirmation'],
      analytics: 'recorded',
      shipment: 'created',
    },
  ],
  [
    'a large order that is rejected charges nothing',
    { items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] },
    {
      approve: false,
      status: 'Rejected',
      steps: [
        ['validate', ok],
        ['approval', 'failed'],
      ],
      compensations: [],
      charged: 0,
      refunded: 0,
      stockTaken: { 'LAPTOP-PRO-16': 0 },
      messages: [],
      analytics: 'none',
      shipment: 'none',
    },
  ],
];

describe.each(scenarios)('%s', (_title, overrides, expected) => {
  let orderId: string;
  let stockBefore: Record<string, { available: number; committed: number }>;
  let view: Awaited<ReturnType<SagaApp['settleOrder']>>;

  beforeAll(async () => {
    orderId = uniqueOrderId('scenario');
    const skus = Object.keys(expected.stockTaken);
    stockBefore = Object.fromEntries(
      await Promise.all(
        skus.map(async (sku) => {
          const stock = (await readStock(sku))!;
          return [sku, { available: stock.available, committed: stock.committed ?? 0 }] as const;
        }),
      ),
    );
    const placed = await app.http('POST', '/api/orders', { body: orderRequest({ ...overrides, orderId }) });
    expect(placed.status).toBe(202);
    if (expected.approve !== undefined) {
      await app.waitForOrderStatus(orderId, 'AwaitingApproval');
      const decided = await app.http('POST', `/api/orders/${orderId}/approval`, {
        body: { approved: expected.approve },
        headers: asApprover('grace'),
      });
      expect(decided.status).toBe(202);
    }
    view = await app.settleOrder(orderId);
  });

  it(`ends ${expected.status}`, () => {
    expect(view.status).toBe(expected.status);
  });

  it('logs its steps', () => {
    expect(view.steps.map((step) => [step.name, step.status])).toEqual(expected.steps);
  });

  it('runs the compensations of the succeeded steps, newest first', () => {
    expect(view.compensations.map((entry) => [entry.name, entry.status])).toEqual(expected.compensations);
  });

  it('records non-critical failures as warnings', () => {
    const warnings = expected.warnings ?? [];
    expect(view.warnings).toHaveLength(warnings.length);
    warnings.forEach((pattern, index) => expect(view.warnings[index]).toMatch(pattern));
  });

  it('leaves each context’s database consistent with the outcome', async () => {
    expect(await gatewayTotals(orderId)).toEqual({ charged: expected.charged, refunded: expected.refunded });
    for (const [sku, taken] of Object.entries(expected.stockTaken)) {
      const stock = await readStock(sku);
      expect(stockBefore[sku].available - stock!.available).toBe(taken);
      // A final order holds nothing: what it took was sold (committed), or given back.
      expect(stock!.holds[orderId] ?? 0).toBe(0);
      expect((stock!.committed ?? 0) - stockBefore[sku].committed).toBe(taken);
    }
    expect((await listMessages(orderId)).map((message) => message.kind).sort()).toEqual(expected.messages);
    expect((await readFact(orderId))?.status ?? 'none').toBe(expected.analytics);
    expect((await readShipment(orderId))?.status ?? 'none').toBe(expected.shipment);
  });

  it('writes the final status to the order document', async () => {
    const document = await readOrder(orderId);
    expect(document?.status).toBe(expected.status);
    expect(document?.steps).toEqual(view.steps);
  });
});

describe('a parcel booked and a confirmation mailed, neither recorded (their writes failed on every attempt)', () => {
  let orderId: string;
  let view: Awaited<ReturnType<SagaApp['settleOrder']>>;

  beforeAll(async () => {
    orderId = uniqueOrderId('unrecorded');
    // Every attempt of the confirm step mails, then fails to record; every ship attempt books, then
    // fails to record. The undos' own writes (the shipment's tombstone, the adopted records) work.
    let confirmationWrites = 0;
    const original = Items.prototype.create;
    const failing = jest.spyOn(Items.prototype, 'create').mockImplementation(function (this: Items, ...args) {
      const [body] = args as [{ id?: string; status?: string }];
      const busy = () => Promise.reject(Object.assign(new Error('busy'), { code: 503 }));
      if (this.container.id === 'shipments' && body.id === orderId && body.status === 'created') return busy();
      const confirmation = this.container.id === 'messages' && body.id === messageDocumentId(orderId, 'confirmation');
      if (confirmation && (confirmationWrites += 1) <= RetryPolicies.notification.maxNumberOfAttempts) return busy();
      return original.apply(this, args) as never;
    });
    try {
      const placed = await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
      expect(placed.status).toBe(202);
      view = await app.settleOrder(orderId);
    } finally {
      failing.mockRestore();
    }
  });

  it('undoes both, and says so, rather than "nothing to undo"', () => {
    expect(view.status).toBe('Compensated');
    expect(view.steps.find((step) => step.name === 'ship')?.status).toBe('failed');
    expect(view.compensations.map((entry) => [entry.name, entry.status])).toEqual([
      ['cancelShipment', ok],
      ['releaseStock', ok],
      ['retractAnalytics', ok],
      ['sendCancellation', ok],
      ['refundPayment', ok],
    ]);
  });

  it('leaves the parcel called back at the carrier and the customer told of the cancellation', async () => {
    const parcel = await simulatedCarrier.findBooking(bookingKey(orderId));
    expect(await readCarrierBooking(parcel!.trackingNumber)).toMatchObject({ status: 'cancelled' });
    expect(await readShipment(orderId)).toMatchObject({ status: 'cancelled', trackingNumber: parcel!.trackingNumber });
    expect(await readMailerLogEntry(messageDocumentId(orderId, 'cancellation'))).toBeDefined();
    expect((await listMessages(orderId)).map((message) => message.kind).sort()).toEqual([
      'cancellation',
      'confirmation',
    ]);
    expect(await gatewayTotals(orderId)).toEqual({ charged: 159, refunded: 159 });
  });
});

describe('fifty unknown skus of 64 characters each', () => {
  const skus = Array.from({ length: 50 }, (_, index) => `${'Z'.repeat(62)}${String(index).padStart(2, '0')}`);
  let orderId: string;
  let view: Awaited<ReturnType<SagaApp['settleOrder']>>;

  beforeAll(async () => {
    orderId = uniqueOrderId('unknown-skus');
    const placed = await app.http('POST', '/api/orders', {
      body: orderRequest({ orderId, items: skus.map((sku) => ({ sku, quantity: 1000 })) }),
    });
    expect(placed.status).toBe(202);
    view = await app.settleOrder(orderId);
  });

  // The extension fails a saga whose custom status is over 16 KB (and so does the engine): fifty
  // reasons of ~76 characters, twice in the view, would have left the order Accepted for good.
  it('is Rejected at validation, its reason naming the first skus and how many reasons there are', () => {
    expect(view.status).toBe('Rejected');
    expect(view.reason).toMatch(/^unknown sku Z{62}00(; unknown sku Z{62}\d\d)*; … \(50 in all\)$/);
    expect(view.steps).toEqual([expect.objectContaining({ name: 'validate', status: 'failed', detail: view.reason })]);
  });

  it('ends its saga Completed, and the order document says Rejected too', async () => {
    expect(app.engine.getStatus(orderId)?.runtimeStatus).toBe('Completed');
    expect(await readOrder(orderId)).toMatchObject({ status: 'Rejected', reason: view.reason });
  });

  it('is refused at the door, naming the line, when a sku holds a quote, a backslash or a space', async () => {
    for (const sku of ['"'.repeat(60) + '00', 'A\\B', 'A B']) {
      const placed = await app.http('POST', '/api/orders', { body: orderRequest({ items: [{ sku, quantity: 1 }] }) });
      expect({ sku, status: placed.status, json: placed.json }).toEqual({
        sku,
        status: 400,
        json: { errors: [{ path: 'items[0].sku', message: 'must be 1-64 letters, digits, ., _ or -' }] },
      });
    }
  });
});
