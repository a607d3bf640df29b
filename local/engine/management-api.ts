/**
 * The Durable management HTTP API, served twice over the same engine:
 * - under `/durabletask/`, the extension's RPC endpoint the SDK's DurableClient calls when the
 *   client binding carries `rpcBaseUrl`;
 * - under `/runtime/webhooks/durabletask/`, the documented webhook API (statusQueryGetUri …).
 * Status codes follow what durableClient/DurableClient.js accepts and the HTTP API reference.
 */
import { managementUrls, RPC_BASE_PATH, WEBHOOK_BASE_PATH } from './client-binding';
import { EngineError, type Engine, type InstanceOperationResult } from './engine';
import { emptyResponse, jsonResponse, parseJsonBody, type PlainRequest, type PlainResponse } from './http-message';
import { splitPath } from './routes';
import { statusPayload } from './status-payload';
import { TERMINAL_STATUSES, type RuntimeStatus } from './store';

const ALL_STATUSES: RuntimeStatus[] = ['Pending', 'Running', ...TERMINAL_STATUSES];

export function isManagementPath(url: string): boolean {
  const path = url.split('?')[0];
  return path.startsWith(RPC_BASE_PATH) || path.startsWith(WEBHOOK_BASE_PATH) || path === RPC_BASE_PATH.slice(0, -1) || path === WEBHOOK_BASE_PATH.slice(0, -1);
}

/** Answers one management request. Never throws: bad input is a 4xx, an engine fault a 500. */
export function handleManagementRequest(engine: Engine, request: PlainRequest, taskHubName?: string): PlainResponse {
  try {
    return route(engine, request, taskHubName);
  } catch (error) {
    return jsonResponse(500, { message: error instanceof Error ? error.message : String(error) });
  }
}

function route(engine: Engine, request: PlainRequest, taskHubName: string | undefined): PlainResponse {
  const url = new URL(request.url, 'http://local');
  const base = url.pathname.startsWith(RPC_BASE_PATH) ? RPC_BASE_PATH : WEBHOOK_BASE_PATH;
  const parts = splitPath(url.pathname.slice(base.length));
  const query = url.searchParams;
  const method = request.method.toUpperCase();
  const allow = (methods: string[]) => (methods.includes(method) ? undefined : jsonResponse(405, { message: `Use ${methods.join(' or ')}` }, { allow: methods.join(', ') }));
  const [collection, id, action, extra] = parts;

  if (collection === 'orchestrators' && parts.length >= 2 && parts.length <= 3) {
    return allow(['POST']) ?? start(engine, request, parts[1], parts[2], taskHubName);
  }
  if (collection === 'instances' && parts.length === 1) {
    return allow(['GET', 'DELETE']) ?? (method === 'GET' ? list(engine, query) : purgeMany(engine, query));
  }
  if (collection === 'instances' && parts.length === 2) {
    return allow(['GET', 'DELETE']) ?? (method === 'GET' ? getStatus(engine, request, id, query, taskHubName, base === RPC_BASE_PATH) : purge(engine, id));
  }
  if (collection === 'instances' && action === 'raiseEvent' && parts.length === 4) {
    return allow(['POST']) ?? raiseEvent(engine, request, id, extra);
  }
  if (collection === 'instances' && action === 'terminate' && parts.length === 3) {
    return allow(['POST']) ?? answer(engine.terminate(id, query.get('reason') ?? ''), id);
  }
  if ((collection === 'instances' && ['suspend', 'resume', 'rewind', 'restart'].includes(action ?? '')) || collection === 'entities') {
    return jsonResponse(501, { message: `${collection === 'entities' ? 'Entities are' : `${action} is`} not supported by the local engine` });
  }
  return jsonResponse(404, { message: `No management API at ${url.pathname}` });
}

function start(engine: Engine, request: PlainRequest, name: string, instanceId: string | undefined, taskHubName: string | undefined): PlainResponse {
  let input: unknown;
  try {
    input = parseJsonBody(request.body);
  } catch {
    return jsonResponse(400, { message: 'The request body is not valid JSON' });
  }
  try {
    const id = engine.startNew(name, { instanceId, input });
    const urls = managementUrls(request.origin, id, taskHubName);
    return jsonResponse(202, { id, ...urls }, { location: urls.statusQueryGetUri });
  } catch (error) {
    if (!(error instanceof EngineError)) throw error;
    const status = error.code === 'conflict' ? 409 : error.code === 'stopped' ? 503 : 400;
    return jsonResponse(status, { message: error.message });
  }
}

function getStatus(engine: Engine, request: PlainRequest, instanceId: string, query: URLSearchParams, taskHubName: string | undefined, rpc: boolean): PlainResponse {
  const status = engine.getStatus(instanceId, { showHistory: flag(query, 'showHistory', false) });
  if (!status) return jsonResponse(404, { message: `No instance with id '${instanceId}' was found` });
  const payload = statusPayload(status, {
    showHistory: flag(query, 'showHistory', false),
    showHistoryOutput: flag(query, 'showHistoryOutput', false),
    showInput: flag(query, 'showInput', true),
  });
  // The SDK's DurableOrchestrationStatus reads the events from `history`, the webhook API names them `historyEvents`.
  if (rpc && payload.historyEvents) payload.history = payload.historyEvents;
  if (status.runtimeStatus === 'Pending' || status.runtimeStatus === 'Running') {
    const location = managementUrls(request.origin, instanceId, taskHubName).statusQueryGetUri;
    return jsonResponse(202, payload, { location, 'retry-after': '10' });
  }
  const failedAsError = status.runtimeStatus === 'Failed' && flag(query, 'returnInternalServerErrorOnFailure', false);
  return jsonResponse(failedAsError ? 500 : 200, payload);
}

function list(engine: Engine, query: URLSearchParams): PlainResponse {
  const filter = filterOf(query);
  if ('error' in filter) return jsonResponse(400, { message: filter.error });
  const top = Number(query.get('top') ?? Infinity);
  const showInput = flag(query, 'showInput', false);
  const instances = engine.listInstances(filter).slice(0, Number.isFinite(top) && top > 0 ? top : undefined);
  return jsonResponse(200, instances.map((status) => statusPayload(status, { showHistory: false, showHistoryOutput: false, showInput })));
}

function purge(engine: Engine, instanceId: string): PlainResponse {
  return engine.purge(instanceId) ? jsonResponse(200, { instancesDeleted: 1 }) : jsonResponse(404, { message: `No instance with id '${instanceId}' was found` });
}

function purgeMany(engine: Engine, query: URLSearchParams): PlainResponse {
  const filter = filterOf(query);
  if ('error' in filter) return jsonResponse(400, { message: filter.error });
  const deleted = engine.listInstances(filter).filter((status) => engine.purge(status.instanceId)).length;
  return deleted > 0 ? jsonResponse(200, { instancesDeleted: deleted }) : jsonResponse(404, { message: 'No instance matched' });
}

function raiseEvent(engine: Engine, request: PlainRequest, instanceId: string, eventName: string): PlainResponse {
  let data: unknown;
  try {
    data = parseJsonBody(request.body);
  } catch {
    return jsonResponse(400, { message: 'The event data is not valid JSON' });
  }
  return answer(engine.raiseEvent(instanceId, eventName, data), instanceId);
}

function answer(result: InstanceOperationResult, instanceId: string): PlainResponse {
  if (result === 'accepted') return emptyResponse(202);
  if (result === 'notFound') return jsonResponse(404, { message: `No instance with id '${instanceId}' was found` });
  return jsonResponse(410, { message: `Instance '${instanceId}' is not running` });
}

function filterOf(query: URLSearchParams): { runtimeStatus?: RuntimeStatus[]; createdTimeFrom?: Date; createdTimeTo?: Date } | { error: string } {
  const statuses = (query.get('runtimeStatus') ?? '').split(',').map((status) => status.trim()).filter(Boolean);
  const unknown = statuses.find((status) => !ALL_STATUSES.includes(status as RuntimeStatus));
  if (unknown) return { error: `Unknown runtimeStatus '${unknown}'` };
  const date = (key: string) => {
    const text = query.get(key);
    return text ? new Date(text) : undefined;
  };
  const [createdTimeFrom, createdTimeTo] = [date('createdTimeFrom'), date('createdTimeTo')];
  if ([createdTimeFrom, createdTimeTo].some((value) => value && Number.isNaN(value.getTime()))) return { error: 'createdTimeFrom/createdTimeTo must be ISO dates' };
  return { runtimeStatus: statuses as RuntimeStatus[], createdTimeFrom, createdTimeTo };
}

function flag(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = query.get(name);
  return value === null ? fallback : value.toLowerCase() === 'true';
}
