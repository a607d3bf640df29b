/**
 * Local development only: creates every context's database and containers (infra/ does this in
 * Azure) and loads the demo catalog, each context through its own repository.
 */
import { declaredDatabases } from '../../src/libs/cosmos';
import { seedStock } from '../../src/services/inventory/repository';
import { ensureDeadLetterQueue } from '../../src/services/orders/dead-letters';
import { ORDER_EVENTS_QUEUE } from '../../src/libs/events';
import { queueClient } from '../../src/libs/storage-queues';
import { poisonQueueOf } from '../../src/services/loyalty/contract';
import '../../src/services/loyalty/repository';
import { seedCatalog } from '../../src/services/orders/repository';
import '../../src/services/analytics/repository';
import '../../src/services/notifications/repository';
import '../../src/services/payments/repository';
import '../../src/services/shipping/repository';
import { SEED_CATALOG, type SeedItem } from './seed-data';

export async function provisionLocalDatabases(): Promise<void> {
  for (const database of declaredDatabases()) await database.ensureCreated();
}

/**
 * The Azure Storage side (in Azure, declared in infra/): the dead-letter queue, the order-events
 * queue and its poison queue (the Functions host would create the latter on first use).
 */
export async function provisionLocalQueues(): Promise<void> {
  await ensureDeadLetterQueue();
  // Created here, not through the module that registers the publishing activity: loading that
  // outside a Functions host would register functions in @azure/functions' test mode.
  await queueClient(ORDER_EVENTS_QUEUE).createIfNotExists();
  await queueClient(poisonQueueOf(ORDER_EVENTS_QUEUE)).createIfNotExists();
}

export async function seedDemoCatalog(
  items: readonly SeedItem[] = SEED_CATALOG,
  { reset = false } = {},
): Promise<void> {
  await seedCatalog(
    items.map(({ sku, name, prices }) => ({ sku, name, prices })),
    { reset },
  );
  await seedStock(
    items.map(({ sku, stock }) => ({ sku, available: stock })),
    { reset },
  );
}
