/**
 * The Durable management HTTP API, served twice over the same engine:
 * - under `/durabletask/`, the extension's RPC endpoint the SDK's DurableClient calls when the
 *   client binding carries `rpcBaseUrl`;
 * - under `/runtime/webhooks/durabletask/`, the documented webhook API (statusQueryGetUri …).
 * Codes, headers and payloads follow the extension's HttpApiHandler.cs (both paths go through its
 * HandleRequestAsync), which the SDK's durableClient/DurableClient.js reads.
 */
import { managementUrls, RPC_BASE_PATH, WEBHOOK_BASE_PATH } from './client-binding';
import { EngineError, type Engine, type InstanceOperationResult } from './engine';
import { emptyResponse, jsonResponse, parseJsonBody, type PlainRequest, type PlainResponse } from './http-message';
import { splitPath } from './routes';
import { statusPayload } from './status-payload';
import { TERMINAL_STATUSES, type RuntimeStatus } from './store';

const ALL_STATUSES: RuntimeStatus[] = ['Pending', 'Running', ...TERMINAL_STATUSES];

/** HttpApiHandler.HandleRequestAsync's answer to an unexpected exception (an HttpError body). */
const INTERNAL_ERROR = 'Something went wrong while processing your request';

export function isManagementPath(url: string): boolean {
  const path = url.split('?')[0];
  return (
    path.startsWith(RPC_BASE_PATH) ||
    path.startsWith(WEBHOOK_BASE_PATH) ||
    path === RPC_BASE_PATH.slice(0, -1) ||
    path === WEBHOOK_BASE_PATH.slice(0, -1)
  );
}

/** Answers one management request. Never throws: bad input is a 4xx, an engine fault a 500. */
export function handleManagementRequest(engine: Engine, request: PlainRequest, taskHubName?: string): PlainResponse {
  try {
    return route(engine, request, taskHubName);
  } catch (error) {
    return jsonResponse(500, {
      Message: INTERNAL_ERROR,
      ExceptionMessage: error instanceof Error ? error.message : String(error),
    });
  }
}

function route(engine: Engine, request: PlainRequest, taskHubName: string | undefined): PlainResponse {
  const url = new URL(request.url, 'http://local');
  const base = url.pathname.startsWith(RPC_BASE_PATH) ? RPC_BASE_PATH : WEBHOOK_BASE_PATH;
  const parts = splitPath(url.pathname.slice(base.length));
  const query = url.searchParams;
  const method = request.method.toUpperCase();
  // The extension answers a known route with the wrong method 404, like an unknown route.
  const allow = (methods: string[]) =>
    methods.includes(method)
      ? undefined
      : jsonResponse(404, { message: `${method} is not served at ${url.pathname}; use ${methods.join(' or ')}` });
  const [collection, id, rawAction, extra] = parts;
  const action = rawAction?.toLowerCase();

  if (collection === 'orchestrators' && parts.length >= 2 && parts.length <= 3) {
    return allow(['POST']) ?? start(engine, request, parts[1], parts[2], taskHubName);
  }
  if (collection === 'instances' && parts.length === 1) {
    return allow(['GET', 'DELETE']) ?? (method === 'GET' ? list(engine, query) : purgeMany(engine, query));
  }
  if (collection === 'instances' && parts.length === 2) {
    return allow(['GET', 'DELETE']) ?? (method === 'GET' ? getStatus(engine, request, id, query) : purge(engine, id));
  }
  if (collection === 'instances' && action === 'raiseevent' && parts.length === 4) {
    return allow(['POST']) ?? raiseEvent(engine, request, id, extra);
  }
  if (collection === 'instances' && action === 'terminate' && parts.length === 3) {
    return allow(['POST']) ?? answer(engine.terminate(id, query.get('reason') ?? ''), id);
  }
  if (
    (collection === 'instances' && ['suspend', 'resume', 'rewind', 'restart'].includes(action ?? '')) ||
    collection === 'entities'
  ) {
    return jsonResponse(501, {
      message: `${collection === 'entities' ? 'Entities are' : `${action} is`} not supported by the local engine`,
    });
  }
  return jsonResponse(404, { message: `No management API at ${url.pathname}` });
}

function start(
  engine: Engine,
  request: PlainRequest,
  name: string,
  instanceId: string | undefined,
  taskHubName: string | undefined,
): PlainResponse {
  let input: unknown;
  try {
    input = parseJsonBody(request.body);
  } catch {
    return jsonResponse(400, { Message: 'Invalid JSON content' });
  }
  try {
    const id = engine.startNew(name, { instanceId, input });
    // CreateCheckStatusResponseMessage: these links (no rewind), Location, Retry-After 10 s.
    const urls = managementUrls(request.origin, id, taskHubName);
    const body = {
      id,
      statusQueryGetUri: urls.statusQueryGetUri,
      sendEventPostUri: urls.sendEventPostUri,
      terminatePostUri: urls.terminatePostUri,
      purgeHistoryDeleteUri: urls.purgeHistoryDeleteUri,
      restartPostUri: urls.restartPostUri,
      suspendPostUri: urls.suspendPostUri,
      resumePostUri: urls.resumePostUri,
    };
    return jsonResponse(202, body, { location: urls.statusQueryGetUri, 'retry-after': '10' });
  } catch (error) {
    if (!(error instanceof EngineError)) throw error;
    // HandleStartOrchestratorRequestAsync (3.19.0) catches OrchestrationAlreadyExistsException:
    // a start over a Pending/Running instance is a 409 with its message.
    if (error.code === 'conflict') return jsonResponse(409, { Message: error.message });
    if (error.code === 'stopped') return jsonResponse(503, { Message: error.message });
    return jsonResponse(400, { Message: error.message });
  }
}

function getStatus(engine: Engine, request: PlainRequest, instanceId: string, query: URLSearchParams): PlainResponse {
  const status = engine.getStatus(instanceId, { showHistory: flag(query, 'showHistory', false) });
  if (!status) return jsonResponse(404, { message: `No instance with id '${instanceId}' was found` });
  // The same payload on both paths: the events are `historyEvents` (StatusResponsePayload), which
  // the SDK's DurableOrchestrationStatus does not read (it looks for `history`).
  const payload = statusPayload(status, {
    showHistory: flag(query, 'showHistory', false),
    showHistoryOutput: flag(query, 'showHistoryOutput', false),
    showInput: flag(query, 'showInput', true),
  });
  if (status.runtimeStatus === 'Pending' || status.runtimeStatus === 'Running') {
    // 202 with Location = the URL asked and Retry-After 5 s.
    return jsonResponse(202, payload, { location: `${request.origin}${request.url}`, 'retry-after': '5' });
  }
  const failedAsError = status.runtimeStatus === 'Failed' && flag(query, 'returnInternalServerErrorOnFailure', false);
  return jsonResponse(failedAsError ? 500 : 200, payload);
}

function list(engine: Engine, query: URLSearchParams): PlainResponse {
  const filter = filterOf(query);
  const top = Number(query.get('top') ?? Infinity);
  const showInput = flag(query, 'showInput', false);
  const instances = engine.listInstances(filter).slice(0, Number.isFinite(top) && top > 0 ? top : undefined);
  return jsonResponse(
    200,
    instances.map((status) => statusPayload(status, { showHistory: false, showHistoryOutput: false, showInput })),
  );
}

/** HandleDeleteHistoryByIdRequestAsync (3.19.0): only an instance in a terminal state; 412 otherwise. */
function purge(engine: Engine, instanceId: string): PlainResponse {
  const status = engine.getStatus(instanceId);
  if (!status) return jsonResponse(404, { message: `No instance with id '${instanceId}' was found` });
  if (!TERMINAL_STATUSES.includes(status.runtimeStatus)) {
    return jsonResponse(
      412,
      `Only orchestrations in a terminal state can be purged, but the orchestration with instance ID ${instanceId} has status ${status.runtimeStatus}`,
    );
  }
  return jsonResponse(200, { instancesDeleted: engine.purge(instanceId) ? 1 : 0 });
}

/**
 * HandleDeleteHistoryWithFiltersRequestAsync: createdTimeFrom is required, createdTimeTo defaults
 * to now. The provider keeps only the finished statuses of the runtimeStatus filter; when none is
 * left, it filters by time alone (so it purges running instances too).
 */
function purgeMany(engine: Engine, query: URLSearchParams): PlainResponse {
  const filter = filterOf(query);
  if (!filter.createdTimeFrom) return jsonResponse(400, "Please provide value for 'createdTimeFrom' parameter.");
  const finished = filter.runtimeStatus.filter((status) => TERMINAL_STATUSES.includes(status));
  const chosen = engine.listInstances({
    createdTimeFrom: filter.createdTimeFrom,
    createdTimeTo: filter.createdTimeTo ?? new Date(engine.clock.now()),
    runtimeStatus: finished,
  });
  const deleted = chosen.filter((status) => engine.purge(status.instanceId)).length;
  return deleted > 0
    ? jsonResponse(200, { instancesDeleted: deleted })
    : jsonResponse(404, { message: 'No instance matched' });
}

/** HandleRaiseEventRequestAsync: 404, then 410 for a finished instance, then the body must be application/json. */
function raiseEvent(engine: Engine, request: PlainRequest, instanceId: string, eventName: string): PlainResponse {
  const status = engine.getStatus(instanceId);
  if (!status) return answer('notFound', instanceId);
  if (TERMINAL_STATUSES.includes(status.runtimeStatus)) return answer('notRunning', instanceId);
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType !== 'application/json')
    return jsonResponse(400, { Message: 'Only application/json request content is supported' });
  let data: unknown;
  try {
    data = parseJsonBody(request.body);
  } catch {
    return jsonResponse(400, { Message: 'Invalid JSON content' });
  }
  return answer(engine.raiseEvent(instanceId, eventName, data), instanceId);
}

function answer(result: InstanceOperationResult, instanceId: string): PlainResponse {
  if (result === 'accepted') return emptyResponse(202);
  if (result === 'notFound') return jsonResponse(404, { message: `No instance with id '${instanceId}' was found` });
  return jsonResponse(410, { message: `Instance '${instanceId}' is not running` });
}

/** The query's filters; like the extension's TryGet…QueryParameterValue, what it cannot read is left out. */
function filterOf(query: URLSearchParams): {
  runtimeStatus: RuntimeStatus[];
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
} {
  const statuses = query
    .getAll('runtimeStatus')
    .flatMap((value) => value.split(','))
    .filter((status): status is RuntimeStatus => ALL_STATUSES.includes(status as RuntimeStatus));
  const date = (key: string) => {
    const value = new Date(query.get(key) ?? '');
    return Number.isNaN(value.getTime()) ? undefined : value;
  };
  return { runtimeStatus: statuses, createdTimeFrom: date('createdTimeFrom'), createdTimeTo: date('createdTimeTo') };
}

function flag(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = query.get(name);
  return value === null ? fallback : value.toLowerCase() === 'true';
}
