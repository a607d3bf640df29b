/** The orders context's data on the real local Cosmos server: ordered, idempotent, final means final; intake, approval, catalog, list. */
import { Items } from '@azure/cosmos';
import { randomUUID } from 'node:crypto';
import { contextDatabase } from '../../src/libs/cosmos';
import { factType } from '../../src/libs/events';
import * as deadLetters from '../../src/services/orders/dead-letters';
import { recordRepairOutcome } from '../../src/services/orders/record-repair-outcome';
import type { OrderView, PlaceOrderInput } from '../../src/services/orders/order-view';
import {
  canMove,
  createOrder,
  listRecentOrders,
  ORDER_LIST_INDEX,
  ordersData,
  progressCondition,
  readCatalog,
  readOrder,
  recordDecision,
  sameDecision,
  saveOrderProgress,
  seedCatalog,
  updateOrder,
  type CatalogItem,
  type OrderDocument,
} from '../../src/services/orders/repository';
import { invocation } from '../services/helpers';

const view = (orderId: string, status: OrderView['status']): OrderView => ({
  orderId,
  correlationId: 'c',
  status,
  total: 10,
  currency: 'EUR',
  steps: [],
  compensations: [],
  warnings: [],
});

beforeAll(async () => {
  await ordersData.ensureCreated();
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('saveOrderProgress', () => {
  it('writes newer revisions and ignores stale or repeated ones', async () => {
    const orderId = `order-${randomUUID()}`;
    expect(await saveOrderProgress(1, view(orderId, 'Paying'), new Date())).toBe('written');
    expect(await saveOrderProgress(2, view(orderId, 'Fulfilling'), new Date())).toBe('written');
    expect(await saveOrderProgress(2, view(orderId, 'Fulfilling'), new Date())).toBe('stale');
    expect(await saveOrderProgress(1, view(orderId, 'Paying'), new Date())).toBe('stale');
    expect((await readOrder(orderId))?.status).toBe('Fulfilling');
  });

  it('never changes an order that reached a final status', async () => {
    const orderId = `order-${randomUUID()}`;
    await saveOrderProgress(5, view(orderId, 'Completed'), new Date());
    expect(await saveOrderProgress(6, view(orderId, 'Shipping'), new Date())).toBe('stale');
    expect((await readOrder(orderId))?.status).toBe('Completed');
  });

  it('lets exactly one of two concurrent writers of the same revision win', async () => {
    const orderId = `order-${randomUUID()}`;
    const outcomes = await Promise.all([
      saveOrderProgress(1, view(orderId, 'Paying'), new Date()),
      saveOrderProgress(1, view(orderId, 'Paying'), new Date()),
    ]);
    expect(outcomes.sort()).toEqual(['stale', 'written']);
  });
});

const placed = (orderId: string): PlaceOrderInput => ({
  order: {
    type: factType('orders', 'OrderPlaced'),
    orderId,
    correlationId: `corr-${orderId}`,
    customerId: 'ada',
    customerEmail: 'ada@example.com',
    currency: 'EUR',
    items: [{ sku: 'MOUSE-ERGO', quantity: 1 }],
    paymentToken: 'tok_visa',
    shippingAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
    placedAt: '2026-01-01T00:00:00.000Z',
  },
  policy: { approvalThreshold: 1000, approvalTimeoutMs: 3600_000 },
});

const at = new Date('2026-01-01T12:00:00.000Z');

describe('canMove', () => {
  it('moves freely until a final status, then only a repair makes CompensationFailed or Terminated Compensated', () => {
    expect(canMove('Accepted', 'Paying')).toBe(true);
    expect(canMove('Paying', 'Completed')).toBe(true);
    expect(canMove('CompensationFailed', 'Compensated')).toBe(true);
    expect(canMove('Terminated', 'Compensated')).toBe(true);
    expect(canMove('CompensationFailed', 'Failed')).toBe(false);
    expect(canMove('Terminated', 'Completed')).toBe(false);
    expect(canMove('Completed', 'Compensated')).toBe(false);
    expect(canMove('Failed', 'Compensated')).toBe(false);
    expect(canMove('Compensated', 'Compensated')).toBe(false);
  });
});

describe('saveOrderProgress keeps what the app wrote on the document', () => {
  it('writes the view with its revision and time, and keeps the intake, the dead letter and a recorded decision', async () => {
    const orderId = `order-${randomUUID()}`;
    const input = placed(orderId);
    await createOrder(input, 'hash-1', at);
    const decision = { approved: true, approver: 'grace', decidedAt: '2026-01-01T12:30:00.000Z' };
    await updateOrder(orderId, (order) => ({
      ...order,
      approval: { deadline: '2026-01-01T13:00:00.000Z', decision },
      deadLetter: { state: 'claimed', letter: { orderId } } as unknown as OrderDocument['deadLetter'],
    }));
    const later = new Date('2026-01-01T12:45:00.000Z');
    // The saga's view knows the deadline but not the decision, which the approval route recorded.
    expect(
      await saveOrderProgress(
        3,
        { ...view(orderId, 'Paying'), approval: { deadline: '2026-01-01T13:00:00.000Z' } },
        later,
      ),
    ).toBe('written');
    const stored = await readOrder(orderId);
    expect(stored).toMatchObject({
      id: orderId,
      status: 'Paying',
      revision: 3,
      updatedAt: later.toISOString(),
      intake: { bodyHash: 'hash-1', acceptedAt: at.toISOString(), input },
      deadLetter: { state: 'claimed', letter: { orderId } },
      approval: { deadline: '2026-01-01T13:00:00.000Z', decision },
    });
  });

  it('adds nothing the document did not have', async () => {
    const orderId = `order-${randomUUID()}`;
    await saveOrderProgress(1, view(orderId, 'Paying'), at);
    const stored = await readOrder(orderId);
    expect(stored).toMatchObject({ ...view(orderId, 'Paying'), id: orderId, revision: 1, updatedAt: at.toISOString() });
    expect(stored).not.toHaveProperty('intake');
    expect(stored).not.toHaveProperty('deadLetter');
    expect(stored).not.toHaveProperty('approval');
  });

  it('takes the view approval as it is while no decision is recorded', async () => {
    const orderId = `order-${randomUUID()}`;
    await saveOrderProgress(1, { ...view(orderId, 'AwaitingApproval'), approval: { deadline: 'd1' } }, at);
    expect((await readOrder(orderId))?.approval).toEqual({ deadline: 'd1' });
  });

  it('lets a repair complete a CompensationFailed order, and nothing after that', async () => {
    const orderId = `order-${randomUUID()}`;
    await saveOrderProgress(1, view(orderId, 'CompensationFailed'), at);
    expect(await saveOrderProgress(2, view(orderId, 'Compensated'), at)).toBe('written');
    expect(await saveOrderProgress(3, view(orderId, 'Compensating'), at)).toBe('stale');
    expect((await readOrder(orderId))?.status).toBe('Compensated');
  });
});

describe('saveOrderProgress on a placed order: one conditional patch', () => {
  // What the intake created, as every order the HTTP route accepts has.
  async function placedOrder(): Promise<string> {
    const orderId = `order-${randomUUID()}`;
    await createOrder(placed(orderId), 'hash-1', at);
    return orderId;
  }

  it('writes with one request and no read, and keeps the intake and the dead letter', async () => {
    const orderId = await placedOrder();
    await updateOrder(orderId, (order) => ({
      ...order,
      deadLetter: { state: 'claimed', letter: { orderId } } as unknown as OrderDocument['deadLetter'],
    }));
    const container = ordersData.container('orders');
    const item = container.item(orderId, orderId);
    const read = jest.spyOn(Object.getPrototypeOf(item) as typeof item, 'read');
    const replace = jest.spyOn(Object.getPrototypeOf(item) as typeof item, 'replace');
    const patch = jest.spyOn(Object.getPrototypeOf(item) as typeof item, 'patch');
    const later = new Date('2026-01-01T12:45:00.000Z');
    const failed = {
      ...view(orderId, 'Failed'),
      correlationId: `corr-${orderId}`,
      reason: 'no luck',
      undoable: ['refundPayment' as const],
    };
    expect(await saveOrderProgress(4, failed, later)).toBe('written');
    expect([read.mock.calls.length, replace.mock.calls.length, patch.mock.calls.length]).toEqual([0, 0, 1]);
    jest.restoreAllMocks();
    expect(await readOrder(orderId)).toMatchObject({
      ...failed,
      id: orderId,
      revision: 4,
      updatedAt: later.toISOString(),
      intake: { bodyHash: 'hash-1', input: placed(orderId) },
      deadLetter: { state: 'claimed', letter: { orderId } },
    });
  });

  it('refuses a stale or repeated revision, and any move from a final status but a repair', async () => {
    const orderId = await placedOrder();
    expect(await saveOrderProgress(1, view(orderId, 'Paying'), at)).toBe('written');
    expect(await saveOrderProgress(1, view(orderId, 'Paying'), at)).toBe('stale');
    expect(await saveOrderProgress(3, view(orderId, 'CompensationFailed'), at)).toBe('written');
    expect(await saveOrderProgress(2, view(orderId, 'Compensating'), at)).toBe('stale');
    expect(await saveOrderProgress(4, view(orderId, 'Failed'), at)).toBe('stale');
    expect(await saveOrderProgress(5, view(orderId, 'Compensated'), at)).toBe('written');
    expect(await saveOrderProgress(6, view(orderId, 'Compensated'), at)).toBe('stale');
    expect(await readOrder(orderId)).toMatchObject({ status: 'Compensated', revision: 5 });
  });

  it('lets exactly one of two concurrent writers of the same revision win', async () => {
    const orderId = await placedOrder();
    const outcomes = await Promise.all([
      saveOrderProgress(1, view(orderId, 'Paying'), at),
      saveOrderProgress(1, view(orderId, 'Fulfilling'), at),
    ]);
    expect(outcomes.sort()).toEqual(['stale', 'written']);
  });

  it('lets a fault other than a refused condition through', async () => {
    const orderId = await placedOrder();
    const item = ordersData.container('orders').item(orderId, orderId);
    jest
      .spyOn(Object.getPrototypeOf(item) as typeof item, 'patch')
      .mockRejectedValueOnce(Object.assign(new Error('busy'), { code: 429 }));
    await expect(saveOrderProgress(1, view(orderId, 'Paying'), at)).rejects.toThrow('busy');
  });

  it('states its condition in terms Cosmos and the local server read alike', () => {
    expect(progressCondition(7, view('o', 'Shipping'))).toBe(
      "FROM c WHERE c.revision < 7 AND NOT (LOWER(c.status) IN ('completed', 'rejected', 'failed', 'compensated', 'compensationfailed', 'terminated'))",
    );
    expect(progressCondition(8, view('o', 'Compensated'))).toBe(
      "FROM c WHERE c.revision < 8 AND (NOT (LOWER(c.status) IN ('completed', 'rejected', 'failed', 'compensated', 'compensationfailed', 'terminated')) OR LOWER(c.status) IN ('compensationfailed', 'terminated'))",
    );
    expect(progressCondition(9, { ...view('o', 'Completed'), warnings: ['commit stock: down', 'x'] })).toBe(
      "FROM c WHERE c.revision < 9 AND (NOT (LOWER(c.status) IN ('completed', 'rejected', 'failed', 'compensated', 'compensationfailed', 'terminated')) OR (LOWER(c.status) = 'completed' AND ARRAY_LENGTH(c.warnings) < 2))",
    );
  });
});

describe("saveOrderProgress: the saga's late write, the same final status with the warnings its ending added", () => {
  const letterNotSent = 'dead letter not sent: order-dead-letters is unavailable';
  const failedRefund = {
    name: 'refundPayment' as const,
    status: 'failed' as const,
    at: '2026-01-01T12:00:00.000Z',
    detail: 'gateway down',
  };
  const ended = (orderId: string, warnings: string[] = []): OrderView => ({
    ...view(orderId, 'CompensationFailed'),
    reason: 'address rejected; compensation failed: refundPayment',
    compensations: [failedRefund],
    warnings,
  });
  async function endedOrder(): Promise<string> {
    const orderId = `order-${randomUUID()}`;
    await createOrder(placed(orderId), 'hash-1', at);
    expect(await saveOrderProgress(4, ended(orderId), at)).toBe('written');
    return orderId;
  }

  it('adds the warnings to the final status, once: a redelivery of it or of the final write changes nothing', async () => {
    const orderId = await endedOrder();
    const later = new Date('2026-01-01T12:50:00.000Z');
    expect(await saveOrderProgress(5, ended(orderId, [letterNotSent]), later)).toBe('written');
    expect(await saveOrderProgress(5, ended(orderId, [letterNotSent]), later)).toBe('stale');
    expect(await saveOrderProgress(4, ended(orderId), at)).toBe('stale');
    // A final status is still final: no more warnings, no write.
    expect(await saveOrderProgress(6, ended(orderId, [letterNotSent]), at)).toBe('stale');
    expect(await readOrder(orderId)).toMatchObject({
      status: 'CompensationFailed',
      warnings: [letterNotSent],
      revision: 5,
      updatedAt: later.toISOString(),
      intake: { bodyHash: 'hash-1' },
    });
  });

  it('lands the final status with its warnings when the final write never did', async () => {
    const orderId = `order-${randomUUID()}`;
    await saveOrderProgress(3, view(orderId, 'Compensating'), at);
    expect(
      await saveOrderProgress(5, ended(orderId, ['order document not updated to CompensationFailed: down']), at),
    ).toBe('written');
    expect(await readOrder(orderId)).toMatchObject({ status: 'CompensationFailed', revision: 5 });
  });

  it('never overwrites an operator repair that moved the order on, whole or in part', async () => {
    jest.spyOn(deadLetters, 'removeDeadLetter').mockResolvedValue(true);
    const repair = (orderId: string, status: 'succeeded' | 'failed') =>
      recordRepairOutcome(
        { orderId, correlationId: 'c', outcomes: [{ ...failedRefund, status, at: '2026-01-01T13:00:00.000Z' }] },
        invocation('recordRepairOutcome'),
      );
    const repaired = await endedOrder();
    await updateOrder(repaired, (order) => ({
      ...order,
      deadLetter: { state: 'sent', messageId: 'm-1' } as unknown as OrderDocument['deadLetter'],
    }));
    expect(await repair(repaired, 'succeeded')).toEqual({ repaired: true });
    const partly = await endedOrder();
    await updateOrder(partly, (order) => ({
      ...order,
      deadLetter: { state: 'sent', messageId: 'm-2' } as unknown as OrderDocument['deadLetter'],
    }));
    expect(await repair(partly, 'failed')).toEqual({ repaired: false });
    const before = await Promise.all([readOrder(repaired), readOrder(partly)]);
    expect(before.map((order) => [order?.status, order?.revision])).toEqual([
      ['Compensated', 5],
      ['CompensationFailed', 5],
    ]);

    // The saga's late write comes after the repair: it is refused, and the repair's record stands;
    // on an order nobody repaired, the same write lands.
    const unrepaired = await endedOrder();
    for (const orderId of [repaired, partly, unrepaired])
      expect(await saveOrderProgress(5, ended(orderId, [letterNotSent]), new Date())).toBe(
        orderId === unrepaired ? 'written' : 'stale',
      );
    // Nor would a later revision overwrite a repaired order: its status is no longer the saga's.
    expect(await saveOrderProgress(6, ended(repaired, [letterNotSent]), new Date())).toBe('stale');
    expect(await Promise.all([readOrder(repaired), readOrder(partly)])).toEqual(before);
  });

  it('takes the same rule on an order that waited for approval (read, then replace)', async () => {
    const orderId = `order-${randomUUID()}`;
    const approval = { deadline: '2026-01-02T00:00:00.000Z' };
    const completed = (warnings: string[]): OrderView => ({ ...view(orderId, 'Completed'), approval, warnings });
    expect(await saveOrderProgress(4, completed([]), at)).toBe('written');
    expect(await saveOrderProgress(5, completed(['commit stock: inventory down']), at)).toBe('written');
    expect(await saveOrderProgress(6, completed(['commit stock: inventory down']), at)).toBe('stale');
    expect(await readOrder(orderId)).toMatchObject({
      status: 'Completed',
      revision: 5,
      warnings: ['commit stock: inventory down'],
    });
  });
});

describe('createOrder', () => {
  it('creates the order Accepted, revision 0, with how it was placed', async () => {
    const orderId = `order-${randomUUID()}`;
    const input = placed(orderId);
    const { created, order } = await createOrder(input, 'hash-1', at);
    const expected = {
      id: orderId,
      orderId,
      correlationId: `corr-${orderId}`,
      status: 'Accepted',
      total: null,
      currency: 'EUR',
      steps: [],
      compensations: [],
      warnings: [],
      revision: 0,
      updatedAt: at.toISOString(),
      intake: { bodyHash: 'hash-1', acceptedAt: at.toISOString(), input },
    };
    expect(created).toBe(true);
    expect(order).toEqual(expected);
    expect(await readOrder(orderId)).toMatchObject(expected);
  });

  it('answers a second create of the same id with the stored document, unchanged', async () => {
    const orderId = `order-${randomUUID()}`;
    await createOrder(placed(orderId), 'hash-1', at);
    await saveOrderProgress(1, view(orderId, 'Paying'), at);
    const again = await createOrder(placed(orderId), 'hash-2', new Date());
    expect(again.created).toBe(false);
    expect(again.order).toMatchObject({ status: 'Paying', revision: 1, intake: { bodyHash: 'hash-1' } });
  });

  it('lets exactly one of two concurrent creates of one id create it', async () => {
    const orderId = `order-${randomUUID()}`;
    const outcomes = await Promise.all([
      createOrder(placed(orderId), 'hash-1', at),
      createOrder(placed(orderId), 'hash-2', at),
    ]);
    expect(outcomes.map(({ created }) => created).sort()).toEqual([false, true]);
    expect(outcomes[0].order.intake?.bodyHash).toBe(outcomes[1].order.intake?.bodyHash);
  });

  it('lets a fault other than a conflict through, and fails when a conflicting document cannot be read', async () => {
    const orderId = `order-${randomUUID()}`;
    const create = jest
      .spyOn(Items.prototype, 'create')
      .mockRejectedValueOnce(Object.assign(new Error('busy'), { code: 503 }));
    await expect(createOrder(placed(orderId), 'hash-1', at)).rejects.toMatchObject({ code: 503 });
    expect(await readOrder(orderId)).toBeUndefined();
    create.mockRejectedValueOnce(Object.assign(new Error('conflict'), { code: 409 }));
    await expect(createOrder(placed(orderId), 'hash-1', at)).rejects.toThrow(
      `order ${orderId}: create conflicted but no document was found`,
    );
  });
});

describe('recordDecision', () => {
  const decision = (approved: boolean, approver = 'grace') => ({
    approved,
    approver,
    decidedAt: '2026-01-01T12:30:00.000Z',
  });

  it('records the first decision with the deadline it was given, and keeps it against a later one', async () => {
    const orderId = `order-${randomUUID()}`;
    await createOrder(placed(orderId), 'hash-1', at);
    expect(await recordDecision(orderId, decision(true), 'deadline-1')).toEqual({
      standing: decision(true),
      recorded: true,
    });
    const first = await readOrder(orderId);
    expect(first?.approval).toEqual({ deadline: 'deadline-1', decision: decision(true) });
    expect(await recordDecision(orderId, decision(false, 'linus'), 'deadline-2')).toEqual({
      standing: decision(true),
      recorded: false,
    });
    expect(await readOrder(orderId)).toEqual(first);
  });

  it('keeps a deadline the document already has', async () => {
    const orderId = `order-${randomUUID()}`;
    await saveOrderProgress(1, { ...view(orderId, 'AwaitingApproval'), approval: { deadline: 'deadline-saga' } }, at);
    await recordDecision(orderId, { timedOut: true, decidedAt: 'd' }, 'deadline-other');
    expect((await readOrder(orderId))?.approval).toEqual({
      deadline: 'deadline-saga',
      decision: { timedOut: true, decidedAt: 'd' },
    });
  });

  it('answers undefined for an order that does not exist, and creates nothing', async () => {
    const orderId = `order-${randomUUID()}`;
    expect(await recordDecision(orderId, decision(true), 'deadline-1')).toBeUndefined();
    expect(await readOrder(orderId)).toBeUndefined();
  });

  it('records one of two racing decisions, and both callers see that one standing', async () => {
    const orderId = `order-${randomUUID()}`;
    await createOrder(placed(orderId), 'hash-1', at);
    const results = await Promise.all([
      recordDecision(orderId, decision(true), 'd'),
      recordDecision(orderId, decision(false, 'linus'), 'd'),
    ]);
    expect(results.map((result) => result?.recorded).sort()).toEqual([false, true]);
    expect(results[0]?.standing).toEqual(results[1]?.standing);
    expect((await readOrder(orderId))?.approval?.decision).toEqual(results[0]?.standing);
  });
});

describe('sameDecision', () => {
  const person = { approved: true, approver: 'grace', decidedAt: 'a' };
  it('is the same decision when the same person decided the same way, whenever', () => {
    expect(sameDecision(person, { ...person, decidedAt: 'b' })).toBe(true);
    expect(sameDecision(person, { ...person, approved: false })).toBe(false);
    expect(sameDecision(person, { ...person, approver: 'linus' })).toBe(false);
    expect(sameDecision({ timedOut: true, decidedAt: 'a' }, person)).toBe(false);
  });
});

describe('updateOrder', () => {
  it('writes what decide returns, and leaves the document alone when it returns nothing', async () => {
    const orderId = `order-${randomUUID()}`;
    await createOrder(placed(orderId), 'hash-1', at);
    const updated = await updateOrder(orderId, (order) => ({ ...order, warnings: ['w'] }));
    expect(updated.warnings).toEqual(['w']);
    const stored = await readOrder(orderId);
    expect(stored?.warnings).toEqual(['w']);
    expect(await updateOrder(orderId, () => undefined)).toEqual(stored);
  });

  it('refuses an order that has no document', async () => {
    const orderId = `order-${randomUUID()}`;
    await expect(updateOrder(orderId, (order) => order)).rejects.toThrow(`order ${orderId}: no order document`);
    expect(await readOrder(orderId)).toBeUndefined();
  });
});

describe('the catalog', () => {
  const item = (sku: string, price: number): CatalogItem => ({
    sku,
    name: `Item ${sku}`,
    prices: { EUR: price, USD: price + 1, GBP: price - 1 } as CatalogItem['prices'],
  });

  it('reads the skus asked for, once each, sorted, without Cosmos fields; unknown and unreadable skus are left out', async () => {
    const stem = `SKU-${randomUUID().slice(0, 8)}`;
    await seedCatalog([item(`${stem}-B`, 20), item(`${stem}-A`, 10)]);
    expect(
      await readCatalog([
        `${stem}-B`,
        `${stem}-A`,
        `${stem}-B`,
        `${stem}-NONE`,
        '',
        ` ${stem}-A`,
        `${stem}-A/x`,
        'a?b',
        'a#b',
        'a\\b',
      ]),
    ).toEqual([item(`${stem}-A`, 10), item(`${stem}-B`, 20)]);
    expect(await readCatalog([])).toEqual([]);
  });

  it('reads the whole catalog, sorted by sku, when no skus are given', async () => {
    const stem = `SKU-${randomUUID().slice(0, 8)}`;
    await seedCatalog([item(`${stem}-B`, 20), item(`${stem}-A`, 10)]);
    const all = await readCatalog();
    expect(all.filter(({ sku }) => sku.startsWith(stem))).toEqual([item(`${stem}-A`, 10), item(`${stem}-B`, 20)]);
    expect(all.map(({ sku }) => sku)).toEqual(all.map(({ sku }) => sku).sort((a, b) => a.localeCompare(b)));
    for (const entry of all) expect(Object.keys(entry).sort()).toEqual(['name', 'prices', 'sku']);
  });

  it('seeding keeps existing items unless reset', async () => {
    const sku = `SKU-${randomUUID().slice(0, 8)}`;
    await seedCatalog([item(sku, 10)]);
    await seedCatalog([item(sku, 99)]);
    expect(await readCatalog([sku])).toEqual([item(sku, 10)]);
    await seedCatalog([item(sku, 99)], { reset: true });
    expect(await readCatalog([sku])).toEqual([item(sku, 99)]);
  });

  it('seeding lets a fault other than a conflict through', async () => {
    jest.spyOn(Items.prototype, 'create').mockRejectedValueOnce(Object.assign(new Error('busy'), { code: 503 }));
    await expect(seedCatalog([item(`SKU-${randomUUID().slice(0, 8)}`, 10)])).rejects.toMatchObject({ code: 503 });
  });
});

describe('listRecentOrders', () => {
  it('lists the most recently updated first, a page at a time, matching part of the id or a whole status, ignoring case', async () => {
    const stem = `list-${randomUUID().slice(0, 8)}`;
    const times = ['2026-03-01T00:00:01.000Z', '2026-03-01T00:00:03.000Z', '2026-03-01T00:00:02.000Z'];
    const statuses = ['Paying', 'Completed', 'Shipping'] as const;
    for (const [index, time] of times.entries()) {
      await saveOrderProgress(1, { ...view(`${stem}-${index}`, statuses[index]), total: index }, new Date(time));
    }
    const summary = (index: number) => ({
      orderId: `${stem}-${index}`,
      status: statuses[index],
      total: index,
      currency: 'EUR',
      updatedAt: times[index],
    });

    expect(await listRecentOrders(10, { search: stem.toUpperCase() })).toEqual([summary(1), summary(2), summary(0)]);
    expect(await listRecentOrders(2, { search: stem })).toEqual([summary(1), summary(2)]);
    expect(await listRecentOrders(10, { search: stem, before: summary(2) })).toEqual([summary(0)]);
    const recent = await listRecentOrders(5);
    expect(recent).toHaveLength(5);
    expect(recent.map(({ updatedAt }) => updatedAt)).toEqual(
      recent
        .map(({ updatedAt }) => updatedAt)
        .sort()
        .reverse(),
    );
    const before = await listRecentOrders(50, { before: summary(1) });
    expect(before.every(({ updatedAt }) => updatedAt < times[1])).toBe(true);
    expect(before.map(({ orderId }) => orderId)).toEqual(expect.arrayContaining([`${stem}-0`, `${stem}-2`]));
  });

  it('pages past orders updated at the same instant: after the last one listed, by order id', async () => {
    const stem = `tied-${randomUUID().slice(0, 8)}`;
    const at = new Date('2026-03-02T00:00:00.000Z');
    for (const index of [0, 1, 2]) await saveOrderProgress(1, view(`${stem}-${index}`, 'Paying'), at);
    const newestFirst = [`${stem}-2`, `${stem}-1`, `${stem}-0`];
    for (const limit of [1, 2]) {
      const listed: string[] = [];
      let page = await listRecentOrders(limit, { search: stem });
      while (page.length > 0) {
        listed.push(...page.map((order) => order.orderId));
        page = await listRecentOrders(limit, { search: stem, before: page.at(-1) });
      }
      expect(listed).toEqual(newestFirst);
    }
  });

  it('a container made before its composite index was declared gets it when created again, and serves the ORDER BY', async () => {
    const id = `indexless-${randomUUID().slice(0, 8)}`;
    const database = ordersData.container('orders').database;
    await database.containers.create({ id, partitionKey: { paths: ['/orderId'] } });
    const scratch = contextDatabase('orders', { [id]: '/orderId' }, { [id]: [ORDER_LIST_INDEX] });
    const query = `SELECT c.orderId FROM c ORDER BY c.updatedAt DESC, c.orderId DESC`;
    try {
      await expect(scratch.container(id).items.query(query).fetchAll()).rejects.toThrow(/composite index/);
      await scratch.ensureCreated();
      await scratch.container(id).items.create({ id: 'a', orderId: 'a', updatedAt: '2026-03-02T00:00:00.000Z' });
      await scratch.container(id).items.create({ id: 'b', orderId: 'b', updatedAt: '2026-03-02T00:00:00.000Z' });
      const { resources } = await scratch.container(id).items.query<{ orderId: string }>(query).fetchAll();
      expect(resources.map((order) => order.orderId)).toEqual(['b', 'a']);
    } finally {
      await database.container(id).delete();
    }
  });

  it('matches a whole status, not part of one', async () => {
    const orderId = `status-${randomUUID().slice(0, 8)}`;
    await saveOrderProgress(1, view(orderId, 'CompensationFailed'), new Date('2099-01-01T00:00:00.000Z'));
    expect((await listRecentOrders(5, { search: 'compensationfailed' })).map((order) => order.orderId)).toContain(
      orderId,
    );
    expect((await listRecentOrders(5, { search: 'compensation' })).map((order) => order.orderId)).not.toContain(
      orderId,
    );
  });
});
