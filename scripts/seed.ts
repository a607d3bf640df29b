/**
 * `npm run seed [-- --reset]`: creates the local databases and loads the demo catalog into the
 * Cosmos endpoint in COSMOS_ENDPOINT (the emulator or the local Cosmos server).
 */
import { provisionLocalDatabases, seedDemoCatalog } from '../local/dependencies/provision';
import { SEED_CATALOG } from '../local/dependencies/seed-data';

async function main(): Promise<void> {
  const reset = process.argv.includes('--reset');
  if (!process.env.COSMOS_ENDPOINT) throw new Error('Set COSMOS_ENDPOINT to the local Cosmos endpoint first');
  await provisionLocalDatabases();
  await seedDemoCatalog(SEED_CATALOG, { reset });
  console.log(`seeded ${SEED_CATALOG.length} catalog items into ${process.env.COSMOS_ENDPOINT}${reset ? ' (reset)' : ''}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
