import { startCosmosServer, type RunningCosmos } from '../../local/dependencies/cosmos-server';

const SLOT = Symbol.for('durable-order-saga.jest.cosmos');

/**
 * Starts one local Cosmos server for the whole run; test workers inherit COSMOS_ENDPOINT.
 * Global setup and teardown share this process, so the server is remembered here rather than
 * in a file another, overlapping jest run could read.
 */
export default async function globalSetup(): Promise<void> {
  const cosmos = await startCosmosServer();
  process.env.COSMOS_ENDPOINT = cosmos.endpoint;
  (globalThis as Record<symbol, RunningCosmos>)[SLOT] = cosmos;
}

export async function stopGlobalCosmos(): Promise<void> {
  await (globalThis as Record<symbol, RunningCosmos | undefined>)[SLOT]?.stop();
}
