/**
 * Stock is never oversold across a restart: orders race for the last units, the host dies while
 * reservations are in flight (their results lost, their effects maybe done), and a new host
 * resumes from the same instance store, delivering those reservations again.
 */
import { startTestApp, type TestApp } from '../../local/engine/testing';
import type { OrderView } from '../../src/services/orders/order-view';
import { startSagaApp, type SagaApp } from '../support/saga-app';
import { order, seedDedicatedSku, stockOf, uniqueName } from './helpers';

jest.setTimeout(180_000);

let app: SagaApp | undefined;
let second: TestApp | undefined;
afterAll(async () => {
  await second?.stop();
  await app?.stop();
});

it('10 orders for 4 units, a crash while reserving, a restart: exactly 4 orders get stock and none is oversold', async () => {
  app = await startSagaApp();
  const STOCK = 4;
  const sku = await seedDedicatedSku('restart', { price: 5, stock: STOCK });
  const orderIds = Array.from({ length: 10 }, (_, index) => uniqueName(`restart${index}`));
  for (const orderId of orderIds)
    expect((await app.http('POST', '/api/orders', { body: order(orderId, [{ sku, quantity: 1 }]) })).status).toBe(202);

  // Run the first host until some reservations have happened, then kill it where it stands.
  const first = app;
  void first.settle({ fastForward: true }).catch(() => undefined);
  // Units taken so far: held by orders in flight, or committed by orders that completed already.
  const taken = async () => {
    const { held, committed } = await stockOf(sku);
    return held + committed;
  };
  while ((await taken()) < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  first.engine.stop();
  const unfinished = orderIds.filter((orderId) => first.engine.getStatus(orderId)?.runtimeStatus !== 'Completed');
  expect(unfinished.length).toBeGreaterThan(0);

  second = await startTestApp({
    entry: require.resolve('../../src/index'),
    store: first.engine.store,
    startTime: first.clock.now(),
  });
  second.engine.recover();
  await second.settle({ fastForward: true });

  const outcomes = orderIds.map((orderId) => second!.engine.getStatus(orderId)!);
  expect(outcomes.map((status) => status.runtimeStatus)).toEqual(orderIds.map(() => 'Completed'));
  const views = outcomes.map((status) => status.output as OrderView);
  const completed = views.filter((view) => view.status === 'Completed').map((view) => view.orderId);
  expect(completed).toHaveLength(STOCK);
  expect(
    views
      .filter((view) => view.status !== 'Completed')
      .every((view) => view.status === 'Compensated' && /out of stock/.test(view.reason ?? '')),
  ).toBe(true);

  const stock = await stockOf(sku);
  expect(stock.available).toBe(0);
  // Every completed order's hold folded into the committed count; no order holds anything now.
  expect(stock.committed).toBe(STOCK);
  expect(stock.holds).toEqual({});
});
