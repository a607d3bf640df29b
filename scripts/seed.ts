/**
 * `npm run seed [-- --reset]`: loads the demo catalog and its stock into the Cosmos endpoint(s) in
 * COSMOS_ENDPOINT (or COSMOS_ENDPOINT_ORDERS / COSMOS_ENDPOINT_INVENTORY).
 *  - local (the emulator or the local Cosmos server): creates the databases first; `--reset`
 *    overwrites the demo items and their stock;
 *  - deployed: the databases come from infra/; items missing are created, items there are left as
 *    they are, with your Microsoft Entra sign-in; `--reset` is refused (it would reset live stock).
 */
import { config } from '../src/libs/config';
import { isLocalEndpoint } from '../src/libs/cosmos';
import { assertResetAllowed, seedDeployment } from '../local/dependencies/deployed-seed';
import { provisionLocalDatabases, seedDemoCatalog } from '../local/dependencies/provision';
import { SEED_CATALOG } from '../local/dependencies/seed-data';

async function main(): Promise<void> {
  const reset = process.argv.includes('--reset');
  const endpoints = ['orders', 'inventory'].map((context) => config.cosmosEndpoint(context));
  if (endpoints.some((endpoint) => !endpoint))
    throw new Error('Set COSMOS_ENDPOINT (or COSMOS_ENDPOINT_ORDERS and COSMOS_ENDPOINT_INVENTORY) first');
  const targets = [...new Set(endpoints as string[])];
  assertResetAllowed(targets, reset);
  if (targets.every(isLocalEndpoint)) {
    await provisionLocalDatabases();
    await seedDemoCatalog(SEED_CATALOG, { reset });
  } else {
    process.env.AZURE_TOKEN_CREDENTIALS ??= 'dev';
    await seedDeployment(SEED_CATALOG, { log: (line) => console.log(line) });
  }
  console.log(`seeded ${SEED_CATALOG.length} catalog items into ${targets.join(', ')}${reset ? ' (reset)' : ''}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
