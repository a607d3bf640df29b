import { startCosmosServer, type RunningCosmos } from '../../local/dependencies/cosmos-server';

const SLOT = Symbol.for('durable-order-saga.jest.cosmos');
const slot = globalThis as Record<symbol, RunningCosmos | undefined>;

/**
 * Starts one local Cosmos server for the whole run; test workers inherit COSMOS_ENDPOINT.
 * Global setup and teardown share this process, so the server is remembered here rather than
 * in a file another, overlapping jest run could read. The integration and e2e projects both
 * name this setup: the second call finds the server already running.
 */
export default async function globalSetup(): Promise<void> {
  const cosmos = (slot[SLOT] ??= await startCosmosServer());
  process.env.COSMOS_ENDPOINT = cosmos.endpoint;
}

export async function stopGlobalCosmos(): Promise<void> {
  const cosmos = slot[SLOT];
  slot[SLOT] = undefined;
  await cosmos?.stop();
}
