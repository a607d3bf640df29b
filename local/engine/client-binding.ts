/**
 * The value the Durable extension gives a `durableClient` input binding
 * (BindingHelper.DurableOrchestrationClientToString, the legacy out-of-proc branch, 3.19.0). With
 * `rpcBaseUrl` set, the SDK's DurableClient sends every call there (durableClient/DurableClient.js);
 * the other URLs are what `createCheckStatusResponse` shows callers.
 */
export const RPC_BASE_PATH = '/durabletask/';
export const WEBHOOK_BASE_PATH = '/runtime/webhooks/durabletask/';
const INSTANCE_ID_PLACEHOLDER = 'INSTANCEID';

export interface DurableClientData {
  taskHubName: string;
  /** Only the gRPC branch sets it; the legacy payload serializes it as null. */
  connectionName: string | null;
  creationUrls: Record<string, string>;
  managementUrls: Record<string, string>;
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
  /** Set only on the gRPC branch; null here, as the extension serializes them. */
  httpBaseUrl: null;
  maxGrpcMessageSizeInBytes: null;
  grpcHttpClientTimeout: null;
}

export function defaultTaskHubName(): string {
  return process.env.TASK_HUB_NAME || 'LocalTaskHub';
}

/** `origin` is where the management API is served, e.g. `http://127.0.0.1:7071`. */
export function durableClientData(origin: string, taskHubName = defaultTaskHubName()): DurableClientData {
  // GetUniversalQueryStrings: the webhook URL's own query (the system key in Azure); none locally.
  const required = '';
  const webhooks = `${origin}${WEBHOOK_BASE_PATH}`;
  return {
    taskHubName,
    connectionName: null,
    // GetInstanceCreationLinks: only the universal query, no taskHub/connection.
    creationUrls: {
      createNewInstancePostUri: `${webhooks}orchestrators/{functionName}[/{instanceId}]?${required}`,
      createAndWaitOnNewInstancePostUri: `${webhooks}orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${required}`,
    },
    managementUrls: { id: INSTANCE_ID_PLACEHOLDER, ...managementUrls(origin, INSTANCE_ID_PLACEHOLDER, taskHubName) },
    baseUrl: webhooks.slice(0, -1),
    requiredQueryStringParameters: required,
    rpcBaseUrl: `${origin}${RPC_BASE_PATH}`,
    httpBaseUrl: null,
    maxGrpcMessageSizeInBytes: null,
    grpcHttpClientTimeout: null,
  };
}

/** HttpApiHandler.GetClientResponseLinks: the management links of one instance (without its `id`). */
export function managementUrls(
  origin: string,
  instanceId: string,
  taskHubName = defaultTaskHubName(),
): Record<string, string> {
  const query = `taskHub=${encodeURIComponent(taskHubName)}&connection=Storage`;
  const instance = `${origin}${WEBHOOK_BASE_PATH}instances/${instanceId === INSTANCE_ID_PLACEHOLDER ? instanceId : encodeURIComponent(instanceId)}`;
  return {
    statusQueryGetUri: `${instance}?${query}`,
    sendEventPostUri: `${instance}/raiseEvent/{eventName}?${query}`,
    terminatePostUri: `${instance}/terminate?reason={text}&${query}`,
    rewindPostUri: `${instance}/rewind?reason={text}&${query}`,
    purgeHistoryDeleteUri: `${instance}?${query}`,
    restartPostUri: `${instance}/restart?${query}`,
    suspendPostUri: `${instance}/suspend?reason={text}&${query}`,
    resumePostUri: `${instance}/resume?reason={text}&${query}`,
  };
}

export function isDurableClientBinding(binding: { type: string }): boolean {
  return binding.type === 'durableClient' || binding.type === 'orchestrationClient';
}
