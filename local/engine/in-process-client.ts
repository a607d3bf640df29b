/**
 * The durable client's RPC calls answered in process. In Azure and under `func start` the SDK's
 * DurableClient reaches the Durable extension over loopback HTTP (`rpcBaseUrl`), because the
 * extension runs in the host's .NET process and the app in a Node worker. Here the engine runs in
 * the same process as the app, so that hop (axios's http adapter, follow-redirects, a socket, the
 * server's http parsing, and back) is a function call instead.
 *
 * The seam is an axios adapter, installed on the defaults of the axios copy the app's
 * durable-functions uses: the SDK creates its axios instance per client (`axios.create()`, which
 * copies the defaults), builds its requests as it always does, and axios still applies its request
 * transforms, its response transform (JSON parsing of the raw body) and the SDK's `validateStatus`.
 * Only requests under a registered `rpcBaseUrl` are answered here; every other request (and
 * one this cannot carry, e.g. a stream body) goes to the adapter axios would have used.
 */
import type { AxiosAdapter, AxiosResponse, AxiosStatic, InternalAxiosRequestConfig } from 'axios';
import { STATUS_CODES } from 'node:http';
import { dirname } from 'node:path';
import type { PlainRequest, PlainResponse } from './http-message';

/** Answers one request as the RPC port would (see host-handler.ts). */
export type InProcessAnswer = (request: PlainRequest) => Promise<PlainResponse> | PlainResponse;

interface Installed {
  /** What `defaults.adapter` was before: names or a function, resolved by axios per request. */
  fallback: InternalAxiosRequestConfig['adapter'];
  /** rpcBaseUrl → its answer. */
  routes: Map<string, InProcessAnswer>;
}

const installed = new WeakMap<AxiosStatic, Installed>();

/**
 * From now on, requests the given axios copy sends under `rpcBaseUrl` get `answer`'s response.
 * Returns the undo (the previous adapter is back once no route is left).
 */
export function serveClientInProcess(axios: AxiosStatic, rpcBaseUrl: string, answer: InProcessAnswer): () => void {
  let state = installed.get(axios);
  if (!state) {
    const created: Installed = { fallback: axios.defaults.adapter, routes: new Map() };
    state = created;
    installed.set(axios, created);
    axios.defaults.adapter = (config) => dispatch(axios, created, config);
  }
  const { routes } = state;
  routes.set(rpcBaseUrl, answer);
  return () => {
    if (routes.get(rpcBaseUrl) !== answer) return;
    routes.delete(rpcBaseUrl);
    if (routes.size > 0) return;
    axios.defaults.adapter = state.fallback;
    installed.delete(axios);
  };
}

function dispatch(axios: AxiosStatic, state: Installed, config: InternalAxiosRequestConfig): ReturnType<AxiosAdapter> {
  const url = config.url ?? '';
  // The SDK sends absolute URLs with no params; anything else is not the SDK's RPC call.
  const answer =
    config.baseURL || config.params || !answersAsText(config.responseType)
      ? undefined
      : [...state.routes].find(([prefix]) => url.startsWith(prefix))?.[1];
  const body = answer ? bodyOf(config.data) : undefined;
  if (!answer || !body) return axios.getAdapter(state.fallback, config)(config);
  return answerInProcess(axios, config, new URL(url), body, answer);
}

async function answerInProcess(
  axios: AxiosStatic,
  config: InternalAxiosRequestConfig,
  url: URL,
  body: Buffer,
  answer: InProcessAnswer,
): Promise<AxiosResponse> {
  const headers: Record<string, string> = { host: url.host };
  // toJSON(true): set headers only, each one string.
  for (const [name, value] of Object.entries(config.headers.toJSON(true))) headers[name.toLowerCase()] = String(value);
  if (body.length > 0) headers['content-length'] = String(body.length);
  const plain = await answer({
    method: (config.method ?? 'get').toUpperCase(),
    url: `${url.pathname}${url.search}`,
    headers,
    body,
    origin: url.origin,
  });
  // What the http adapter hands on: the raw text (axios's transformResponse parses it), the
  // headers as the server wrote them (writeNodeResponse adds content-length).
  const response: AxiosResponse = {
    status: plain.status,
    statusText: STATUS_CODES[plain.status] ?? '',
    headers: new axios.AxiosHeaders({ ...plain.headers, 'content-length': String(plain.body.length) }),
    config,
    request: undefined,
    data: plain.body.toString('utf8'),
  };
  // As axios's settle(): the status the config's validateStatus refuses is an AxiosError.
  if (!config.validateStatus || config.validateStatus(response.status)) return response;
  const code = response.status < 500 ? axios.AxiosError.ERR_BAD_REQUEST : axios.AxiosError.ERR_BAD_RESPONSE;
  throw new axios.AxiosError(`Request failed with status code ${response.status}`, code, config, undefined, response);
}

function answersAsText(responseType: InternalAxiosRequestConfig['responseType']): boolean {
  return responseType === undefined || responseType === 'json' || responseType === 'text';
}

/** The request body as axios's transformRequest left it, or undefined for a kind only a real transport carries. */
function bodyOf(data: unknown): Buffer | undefined {
  if (data === undefined || data === null) return Buffer.alloc(0);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return undefined;
}

/**
 * The axios copy that durable-functions, as found from `fromDir`, loads: resolved and loaded by
 * this module's own require (jest's, under jest, so it is the instance the app's SDK gets there).
 */
export function durableFunctionsAxios(fromDir: string): AxiosStatic {
  const sdk = require.resolve('durable-functions', { paths: [fromDir] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve('axios', { paths: [dirname(sdk)] })) as AxiosStatic;
}
