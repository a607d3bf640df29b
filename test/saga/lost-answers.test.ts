/**
 * An undo whose answer is lost: it acted, then the host crashed before recording its result, and
 * handed the same task out again. The repeat moves nothing, and the saga still logs what the
 * first delivery did, not "nothing to undo".
 */
import type { Fault } from '../../local/engine/activities';
import { readStock } from '../../src/services/inventory/repository';
import { readOrder } from '../../src/services/orders/repository';
import { orderRequest, rejectedAddress, uniqueOrderId } from '../support/orders';
import { startSagaApp, type SagaApp } from '../support/saga-app';

let app: SagaApp;
const releaseDeliveries: number[] = [];
beforeAll(async () => {
  app = await startSagaApp({
    // The release runs, gives the stock back, and its answer is lost: the host hands it out again.
    faults: (call): Fault => {
      if (call.activityName !== 'releaseStock') return undefined;
      releaseDeliveries.push(call.delivery);
      return call.delivery === 1 ? 'crashAfter' : undefined;
    },
  });
});
afterAll(async () => {
  await app?.stop();
});

it('a release redelivered after it gave the stock back is logged as succeeded, and gives nothing back twice', async () => {
  const orderId = uniqueOrderId('release-lost');
  const body = orderRequest({ orderId, shippingAddress: rejectedAddress });
  const [{ sku, quantity }] = body.items;
  const before = (await readStock(sku))!.available;
  await app.http('POST', '/api/orders', { body });
  const view = await app.settleOrder(orderId);
  expect(releaseDeliveries).toEqual([1, 2]);
  expect(view.status).toBe('Compensated');
  expect(view.compensations.find((entry) => entry.name === 'releaseStock')).toMatchObject({ status: 'succeeded' });
  expect((await readOrder(orderId))?.compensations.find((entry) => entry.name === 'releaseStock')).toMatchObject({
    status: 'succeeded',
  });
  const after = (await readStock(sku))!;
  expect(after.available).toBe(before);
  expect(after.holds).not.toHaveProperty(orderId);
  expect(after.released?.[orderId]).toEqual({ at: expect.any(String), quantity });
});
