/**
 * One node `(req, res)` handler for everything a Functions host serves: the durable management
 * API (RPC and webhook routes) and the app's HTTP functions. The jest front door and the
 * offline host both mount it on a plain http server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from './engine';
import {
  BodyTooLargeError,
  jsonResponse,
  readNodeRequest,
  writeNodeResponse,
  type PlainRequest,
  type PlainResponse,
} from './http-message';
import type { HttpInvoker } from './http-invoker';
import { handleManagementRequest, isManagementPath } from './management-api';

/** Like the Functions host's default request size limit (100 MB). */
const MAX_BODY_BYTES = 100 * 1024 * 1024;

export interface HostHandlerOptions {
  engine: Engine;
  invoker?: HttpInvoker;
  taskHubName?: string;
  /**
   * Wait for the store's durability before answering (default true). Off only for a port whose
   * callers' answers go out through one that waits: the durable client's RPC port, whose caller is
   * an HTTP function answering on the public port.
   */
  acknowledge?: boolean;
}

/**
 * Routes one plain request. No answer leaves before the store has made durable every change made
 * so far (a store that writes in the background, by group commit): whatever a caller is told,
 * an accepted order, a raised event, a status it read, survives a crash of the host.
 */
export async function handleHostRequest(options: HostHandlerOptions, request: PlainRequest): Promise<PlainResponse> {
  const response = await route(options, request);
  if (options.acknowledge !== false) await options.engine.store.flushed?.();
  return response;
}

function route(options: HostHandlerOptions, request: PlainRequest): Promise<PlainResponse> | PlainResponse {
  if (isManagementPath(request.url)) return handleManagementRequest(options.engine, request, options.taskHubName);
  if (options.invoker) return options.invoker.invoke(request);
  return jsonResponse(404, { message: 'Not found' });
}

export function createHostHandler(options: HostHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      let response: PlainResponse;
      try {
        response = await handleHostRequest(options, await readNodeRequest(req, MAX_BODY_BYTES));
      } catch (error) {
        response = faultResponse(error);
      }
      if (!res.headersSent) writeNodeResponse(res, response);
    })();
  };
}

/** The answer to a request that could not be read or routed: 413 past the size limit, else 500. */
export function faultResponse(error: unknown): PlainResponse {
  return jsonResponse(error instanceof BodyTooLargeError ? 413 : 500, {
    message: error instanceof Error ? error.message : String(error),
  });
}
