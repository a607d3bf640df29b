import type * as df from 'durable-functions';

/** The SDK's getStatus throws on an unknown instance; here that is an ordinary answer. */
export async function findInstance(client: df.DurableClient, instanceId: string, options?: df.GetStatusOptions): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(instanceId, options);
  } catch (error) {
    if (error instanceof Error && error.message.includes('HTTP 404')) return undefined;
    throw error;
  }
}
