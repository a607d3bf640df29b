/** Order ids that are also names of Object.prototype members are ordinary ids, end to end. */
import { orderRequest } from '../support/orders';
import { startSagaApp, type SagaApp } from '../support/saga-app';

let app: SagaApp;
beforeAll(async () => {
  app = await startSagaApp();
});
afterAll(async () => {
  await app?.stop();
});

it.each(['__proto__', 'constructor', 'hasOwnProperty', 'toString'])(
  'order id %s completes like any other and pollutes nothing',
  async (orderId) => {
    const placed = await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
    expect(placed.status).toBe(202);
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
    expect((await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) })).status).toBe(202);
    expect(
      (await app.http('POST', '/api/orders', { body: orderRequest({ orderId, customerId: 'another' }) })).status,
    ).toBe(409);
    expect(({} as Record<string, unknown>).available).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  },
);
