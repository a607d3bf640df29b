import type { FunctionInput, InvocationContext } from '@azure/functions';
import type * as df from 'durable-functions';
import { isInstanceNotFound } from '../../../libs/errors';

/**
 * Whether an instance (by its runtime status) may still act: started, and not yet ended. A
 * suspended one (the extension's management API) has not ended: it takes events and a terminate,
 * and goes on where it was once resumed.
 */
export const isRunning = (runtimeStatus: string | undefined): boolean =>
  runtimeStatus === 'Pending' || runtimeStatus === 'Running' || runtimeStatus === 'Suspended';

/** The SDK's getStatus throws on an unknown instance; here that is an ordinary answer. */
export async function findInstance(
  client: df.DurableClient,
  instanceId: string,
  options?: df.GetStatusOptions,
): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(instanceId, options);
  } catch (error) {
    if (isInstanceNotFound(error)) return undefined;
    throw error;
  }
}

/** An instance's status with its history, as the Durable HTTP API shows it (`historyEvents`). */
export interface InstanceWithHistory {
  runtimeStatus: string;
  input?: unknown;
  customStatus?: unknown;
  lastUpdatedTime?: string;
  historyEvents: unknown[];
}

/**
 * The SDK's getStatus drops the history: the extension answers `historyEvents`, the SDK's
 * DurableOrchestrationStatus copies `history` (azure-functions-durable-js issue 620). So ask the
 * endpoint the SDK itself asks - the binding's `rpcBaseUrl`, on the host's loopback - directly.
 * (The binding's management URLs will not do: the SDK points them at localhost:7071 off Azure.)
 */
export async function findInstanceWithHistory(
  context: InvocationContext,
  clientInput: FunctionInput,
  instanceId: string,
): Promise<InstanceWithHistory | undefined> {
  const rpcBaseUrl = (context.extraInputs.get(clientInput) as { rpcBaseUrl?: unknown } | undefined)?.rpcBaseUrl;
  if (typeof rpcBaseUrl !== 'string') throw new Error('the durable client binding has no rpcBaseUrl');
  const url = new URL(`instances/${encodeURIComponent(instanceId)}`, rpcBaseUrl);
  for (const flag of ['showHistory', 'showHistoryOutput', 'showInput']) url.searchParams.set(flag, 'true');
  const response = await fetch(url);
  if (response.status === 404) return undefined;
  // 200 once it has ended, 202 while it runs.
  if (response.status !== 200 && response.status !== 202)
    throw new Error(`status query for ${instanceId} answered HTTP ${response.status}`);
  const status = (await response.json()) as Partial<InstanceWithHistory>;
  return { ...status, runtimeStatus: String(status.runtimeStatus), historyEvents: status.historyEvents ?? [] };
}
