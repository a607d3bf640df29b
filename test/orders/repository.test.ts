/** The order document on the real local Cosmos server: ordered, idempotent, final means final. */
import { randomUUID } from 'node:crypto';
import type { OrderView } from '../../src/services/orders/order-view';
import { ordersData, readOrder, saveOrderProgress } from '../../src/services/orders/repository';

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
    const outcomes = await Promise.all([saveOrderProgress(1, view(orderId, 'Paying'), new Date()), saveOrderProgress(1, view(orderId, 'Paying'), new Date())]);
    expect(outcomes.sort()).toEqual(['stale', 'written']);
  });
});
