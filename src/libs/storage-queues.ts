/**
 * Azure Storage queues, reached the way the Functions host reaches its own storage: through
 * `AzureWebJobsStorage` locally (Azurite, a connection string), and in Azure through the
 * identity-based settings (`AzureWebJobsStorage__queueServiceUri` + `__clientId`), no key.
 */
import type { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { config } from './config';

let cached: { source: string; service: QueueServiceClient } | undefined;

function serviceClient(): QueueServiceClient {
  const storage = config.queueStorage();
  if (!storage)
    throw new Error(
      'No queue storage: set AzureWebJobsStorage (local) or AzureWebJobsStorage__queueServiceUri (Azure)',
    );
  const source = 'connectionString' in storage ? storage.connectionString : storage.serviceUri;
  if (cached?.source === source) return cached.service;
  // Loaded on first use: most functions never touch a queue.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const queues = require('@azure/storage-queue') as typeof import('@azure/storage-queue');
  let service: QueueServiceClient;
  if ('connectionString' in storage) {
    service = queues.QueueServiceClient.fromConnectionString(storage.connectionString);
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const identity = require('@azure/identity') as typeof import('@azure/identity');
    const { clientId } = storage;
    service = new queues.QueueServiceClient(
      storage.serviceUri,
      clientId ? new identity.ManagedIdentityCredential({ clientId }) : new identity.DefaultAzureCredential(),
    );
  }
  cached = { source, service };
  return service;
}

export function queueClient(name: string): QueueClient {
  return serviceClient().getQueueClient(name);
}

/** Queue messages are base64 text, as Functions queue triggers expect by default. */
export const encodeMessage = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
export const decodeMessage = <T>(text: string): T => JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as T;
