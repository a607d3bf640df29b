/**
 * The whole app for a test file: its own local Cosmos server (so stock counts are the file's
 * alone) and Azurite queues (the dead letters), the seeded catalog, and the real function
 * registrations running on the durable engine with virtual time.
 */
import { QueueTriggers } from '../../local/engine/queue-triggers';
import { startTestApp, type TestApp, type TestAppOptions } from '../../local/engine/testing';
import { startAzuriteQueues, type RunningAzurite } from '../../local/dependencies/azurite';
import { startCosmosServer, type RunningCosmos } from '../../local/dependencies/cosmos-server';
import { provisionLocalDatabases, provisionLocalQueues, seedDemoCatalog } from '../../local/dependencies/provision';
import { resetCosmosClients } from '../../src/libs/cosmos';
import type { OrderStatus, OrderView } from '../../src/services/orders/order-view';
import { isFinal } from '../../src/services/orders/order-view';

export type OrderResponse = Pick<
  OrderView,
  'orderId' | 'status' | 'total' | 'currency' | 'steps' | 'compensations' | 'warnings' | 'reason'
>;

export interface SagaApp extends TestApp {
  /** The app's queue triggers (the loyalty reaction), run on demand: `await app.queues.drain()`. */
  queues: QueueTriggers;
  /** Runs the engine (skipping virtual time through retries and timers) until the order is final. */
  settleOrder(orderId: string, options?: { skipTime?: boolean }): Promise<OrderResponse>;
  /** Runs the engine without skipping time until the order reaches `status`. */
  waitForOrderStatus(orderId: string, status: OrderStatus): Promise<void>;
}

/**
 * Whatever fails while starting (a dependency, provisioning, or the app failing to load), what
 * was already started is stopped again before the error is passed on: a test whose app does not
 * load fails, it does not leave Cosmos and Azurite running and jest waiting on them.
 */
export async function startSagaApp(options: Pick<TestAppOptions, 'entry' | 'faults' | 'log'> = {}): Promise<SagaApp> {
  const started: (() => Promise<void>)[] = [];
  const stopStarted = async () => {
    resetCosmosClients();
    await Promise.allSettled(
      started
        .splice(0)
        .reverse()
        .map((stop) => stop()),
    );
  };
  let app: TestApp;
  try {
    const [cosmos, azurite] = await Promise.allSettled([startCosmosServer(), startAzuriteQueues()]);
    for (const dependency of [cosmos, azurite])
      if (dependency.status === 'fulfilled') started.push(() => dependency.value.stop());
    for (const dependency of [cosmos, azurite]) if (dependency.status === 'rejected') throw dependency.reason;
    const endpoints = {
      cosmos: (cosmos as PromiseFulfilledResult<RunningCosmos>).value,
      azurite: (azurite as PromiseFulfilledResult<RunningAzurite>).value,
    };
    process.env.COSMOS_ENDPOINT = endpoints.cosmos.endpoint;
    process.env.AzureWebJobsStorage = endpoints.azurite.connectionString;
    resetCosmosClients();
    await Promise.all([provisionLocalDatabases(), provisionLocalQueues()]);
    await seedDemoCatalog();
    app = await startTestApp({
      entry: options.entry ?? require.resolve('../../src/index'),
      faults: options.faults,
      log: options.log,
    });
  } catch (error) {
    await stopStarted();
    throw error;
  }

  const readOrder = async (orderId: string): Promise<OrderResponse> => {
    const response = await app.http('GET', `/api/orders/${orderId}`);
    if (response.status !== 200) throw new Error(`GET order ${orderId}: ${response.status} ${response.text}`);
    return response.json as OrderResponse;
  };

  return {
    ...app,
    queues: new QueueTriggers(app.registry),
    async settleOrder(orderId) {
      await app.settle({ fastForward: true });
      const view = await readOrder(orderId);
      if (!isFinal(view.status)) throw new Error(`order ${orderId} settled in ${view.status}, not a final status`);
      return view;
    },
    async waitForOrderStatus(orderId, status) {
      await app.waitFor(orderId, (instance) => (instance.customStatus as OrderView | undefined)?.status === status);
    },
    async stop() {
      try {
        await app.stop();
      } finally {
        await stopStarted();
      }
    },
  };
}
