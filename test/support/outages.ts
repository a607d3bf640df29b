/**
 * Outages for tests of the app in this process (startSagaApp): jest spies on the modules the
 * app itself calls. Each returns its spy; the test ends the outage with `mockRestore()`.
 */
import { TransientError } from '../../src/libs/errors';
import * as storageQueues from '../../src/libs/storage-queues';
import { simulatedGateway } from '../../src/services/payments/simulated-gateway';
import { orderRequest } from './orders';
import type { SagaApp } from './saga-app';

/**
 * The queue `name` is down: its client's methods (those named, or all) reject with a transient
 * fault, so the activity that calls them retries; every other queue works.
 */
export function queueDown(name: string, methods?: readonly string[]) {
  const realQueueClient = storageQueues.queueClient;
  return jest.spyOn(storageQueues, 'queueClient').mockImplementation((asked) => {
    const real = realQueueClient(asked);
    if (asked !== name) return real;
    const unavailable = () => Promise.reject(new TransientError(`${name} is unavailable`));
    return new Proxy(real, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        const failing = methods ? methods.includes(String(property)) : typeof value === 'function';
        return failing ? unavailable : value;
      },
    });
  });
}

/** The gateway refuses every refund outright: not a transient fault, so the compensation fails at once. */
export function refundsRefused() {
  return jest.spyOn(simulatedGateway, 'refund').mockRejectedValue(new Error('the gateway refuses this refund'));
}

/**
 * Places an order and runs it to where the saga has written Completed but cannot announce it
 * (the order-events queue is down): the instance still runs. Returns the queue's spy.
 */
export async function placeAnnouncingOrder(app: SagaApp, orderId: string) {
  const publish = queueDown('order-events', ['sendMessage']);
  await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
  await app.waitForOrderStatus(orderId, 'Completed');
  await app.settle();
  expect(publish).toHaveBeenCalledWith('order-events');
  expect(app.status(orderId)?.runtimeStatus).toBe('Running');
  return publish;
}
