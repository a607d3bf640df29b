/**
 * Local development only: creates every context's database and containers (infra/ does this in
 * Azure) and loads the demo catalog, each context through its own repository.
 */
import { declaredDatabases } from '../../src/libs/cosmos';
import { seedStock } from '../../src/services/inventory/repository';
import { ensureDeadLetterQueue } from '../../src/services/orders/dead-letters';
import { seedCatalog } from '../../src/services/orders/repository';
import '../../src/services/analytics/repository';
import '../../src/services/notifications/repository';
import '../../src/services/payments/repository';
import '../../src/services/shipping/repository';
import { SEED_CATALOG, type SeedItem } from './seed-data';

export async function provisionLocalDatabases(): Promise<void> {
  for (const database of declaredDatabases()) await database.ensureCreated();
}

/** The Azure Storage side: the dead-letter queue (in Azure, declared in infra/). */
export async function provisionLocalQueues(): Promise<void> {
  await ensureDeadLetterQueue();
}

export async function seedDemoCatalog(items: readonly SeedItem[] = SEED_CATALOG, { reset = false } = {}): Promise<void> {
  await seedCatalog(items.map(({ sku, name, prices }) => ({ sku, name, prices })), { reset });
  await seedStock(items.map(({ sku, stock }) => ({ sku, available: stock })), { reset });
}
