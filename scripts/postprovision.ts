/**
 * azd `postprovision` hook (azure.yaml): seeds the demo catalog and stock of the environment just
 * provisioned, through the Cosmos DB data plane with the deployer's Microsoft Entra identity (the
 * `azd auth login` sign-in, never a key), then prints the app URL and the command
 * that runs the demo against it. Safe to run again (`azd hooks run postprovision`): what exists is
 * left as it is (see local/dependencies/deployed-seed.ts).
 */
import {
  cosmosSettings,
  demoInstructions,
  seedDeployment,
  seedPlan,
  type AzdOutputs,
  useAzdSignIn,
} from '../local/dependencies/deployed-seed';
import { SEED_CATALOG } from '../local/dependencies/seed-data';

async function main(): Promise<void> {
  const outputs = process.env as AzdOutputs;
  const plan = seedPlan(outputs);
  if (plan.seed) {
    Object.assign(process.env, cosmosSettings(outputs));
    useAzdSignIn();
    await seedDeployment(SEED_CATALOG, { log: (line) => console.log(line) });
    console.log(
      `seed: ${SEED_CATALOG.length} catalog items and their stock are in place (existing items left unchanged)`,
    );
  } else {
    console.log(`seed: skipped: ${plan.reason}`);
  }
  console.log('');
  for (const line of demoInstructions(outputs)) console.log(line);
}

main().catch((error) => {
  console.error(`postprovision: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
