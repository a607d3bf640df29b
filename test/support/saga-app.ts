/**
 * The whole app for a test file: its own local Cosmos server (so stock counts are the file's
 * alone) and Azurite queues (the dead letters), the seeded catalog, and the real function
 * registrations running on the durable engine with virtual time.
 */
import { QueueTriggers } from '../../local/engine/queue-triggers';
import { startTestApp, type TestApp } from '../../local/engine/testing';
import { startAzuriteQueues } from '../../local/dependencies/azurite';
import { startCosmosServer } from '../../local/dependencies/cosmos-server';
import { provisionLocalDatabases, provisionLocalQueues, seedDemoCatalog } from '../../local/dependencies/provision';
import { resetCosmosClients } from '../../src/libs/cosmos';
import type { OrderStatus, OrderView } from '../../src/services/orders/order-view';
import { isFinal } from '../../src/services/orders/order-view';

export type OrderResponse = Pick<OrderView, 'orderId' | 'status' | 'total' | 'currency' | 'steps' | 'compensations' | 'warnings' | 'reason'>;

export interface SagaApp extends TestApp {
  /** The app's queue triggers (the loyalty reaction), run on demand: `await app.queues.drain()`. */
  queues: QueueTriggers;
  /** Runs the engine (skipping virtual time through retries and timers) until the order is final. */
  settleOrder(orderId: string, options?: { skipTime?: boolean }): Promise<OrderResponse>;
  /** Runs the engine without skipping time until the order reaches `status`. */
  waitForOrderStatus(orderId: string, status: OrderStatus): Promise<void>;
}

export async function startSagaApp(): Promise<SagaApp> {
  const [cosmos, azurite] = await Promise.all([startCosmosServer(), startAzuriteQueues()]);
  process.env.COSMOS_ENDPOINT = cosmos.endpoint;
  process.env.AzureWebJobsStorage = azurite.connectionString;
  resetCosmosClients();
  await Promise.all([provisionLocalDatabases(), provisionLocalQueues()]);
  await seedDemoCatalog();
  const app = await startTestApp({ entry: require.resolve('../../src/index') });

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
      await app.stop();
      resetCosmosClients();
      await Promise.all([cosmos.stop(), azurite.stop()]);
    },
  };
}
