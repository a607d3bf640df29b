/**
 * The offline host's HTTP front: node's http server around a backend's request routing (the
 * durable management API and the app's HTTP functions), with what a real host adds for bad
 * clients: a body limit checked before the body is read (413), header and request timeouts for
 * slow ones (408), and no request that can take the process down.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  BodyTooLargeError,
  jsonResponse,
  readNodeRequest,
  writeNodeResponse,
  type PlainRequest,
  type PlainResponse,
} from '../engine/http-message';
import type { HostLogger } from './logger';

export interface HostServerOptions {
  /** Answers one request (management API or app function); rejects only on a bug. */
  route: (request: PlainRequest) => Promise<PlainResponse>;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** Used for absolute URLs when a request has no usable Host header. */
  fallbackOrigin: () => string;
  /** Where `GET /` leads (a 302), as the Functions host shows its home page there: the timeline. */
  homePath?: string;
  log: HostLogger;
}

export interface HostServer {
  server: Server;
  /** Resolves once no request is being handled. */
  whenIdle(): Promise<void>;
}

/** How long a refused body may go on arriving before the connection is closed under it. */
const LINGER_MS = 2000;

/** Host names and IP literals with an optional port; anything else is not put into a URL. */
const HOST_HEADER = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export function createHostServer(options: HostServerOptions): HostServer {
  let active = 0;
  const idleWaiters: (() => void)[] = [];
  const tooLarge = () =>
    jsonResponse(
      413,
      { message: `The request body is larger than ${options.maxBodyBytes} bytes` },
      { connection: 'close' },
    );
  const declaredTooLarge = (req: IncomingMessage) => Number(req.headers['content-length'] ?? 0) > options.maxBodyBytes;
  /**
   * The body grew past the limit while it was read (chunked, or longer than declared): answer 413
   * now, and close only once the rest has been read and dropped, or after a moment. Closing with
   * data still arriving makes the kernel reset the connection, and the client can lose the answer.
   */
  const refuseStreamedBody = (req: IncomingMessage, res: ServerResponse) => {
    const { connection: _close, ...headers } = tooLarge().headers;
    send(res, { ...tooLarge(), headers });
    const close = () => req.socket.end();
    const timer = setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
    if (req.readableEnded) close();
    else req.once('end', () => (clearTimeout(timer), close()));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    active += 1;
    try {
      // Refused on the declared length, before a byte of the body is read.
      if (declaredTooLarge(req)) return send(res, tooLarge());
      const [path, query] = (req.url ?? '/').split(/\?(.*)/s);
      if (options.homePath && path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
        req.resume();
        return send(res, {
          status: 302,
          headers: { location: options.homePath + (query ? `?${query}` : ''), 'content-length': '0' },
          body: Buffer.alloc(0),
        });
      }
      const request = await readNodeRequest(req, options.maxBodyBytes);
      request.origin = HOST_HEADER.test(request.headers.host ?? '')
        ? `http://${request.headers.host}`
        : options.fallbackOrigin();
      send(res, await options.route(request));
    } catch (error) {
      if (error instanceof BodyTooLargeError) return refuseStreamedBody(req, res);
      // The client went away mid-body, or a bug: either way this request ends here, the host does not.
      if (req.destroyed) return;
      options.log.error(`${req.method} ${req.url} failed`, error);
      send(res, jsonResponse(500, { message: 'The host failed to handle the request' }));
    } finally {
      active -= 1;
      if (active === 0) for (const resolve of idleWaiters.splice(0)) resolve();
    }
  };

  const server = createServer(
    {
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: Math.min(options.headersTimeoutMs, options.requestTimeoutMs),
      // How often node looks for connections past those timeouts (its default is 30 s).
      connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs),
    },
    (req, res) => void handle(req, res),
  );
  // `Expect: 100-continue`: a client that announces a body too large never has to send it.
  server.on('checkContinue', (req, res) => {
    if (declaredTooLarge(req)) return send(res, tooLarge());
    res.writeContinue();
    void handle(req, res);
  });
  // CONNECT (a proxy tunnel) is no request to an app: node hands it to this event, not the handler
  // above, and without a listener it would just drop the connection. Answer it instead.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const body = JSON.stringify({ message: 'CONNECT is not supported: this is not a proxy' });
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nallow: GET, POST, DELETE\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // Malformed requests and timeouts: node's own answers (400, 408), never an exception.
    if (!socket.writable) return socket.destroy();
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const reason =
      status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });

  return {
    server,
    whenIdle: () => (active === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve))),
  };
}

function send(res: ServerResponse, response: PlainResponse): void {
  if (res.headersSent || res.destroyed) return;
  writeNodeResponse(res, response);
}
