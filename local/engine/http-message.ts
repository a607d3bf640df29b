/**
 * A plain request/response pair shared by the management API, the function invoker and the
 * jest front door, plus the adapters to node's http module.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface PlainRequest {
  method: string;
  /** Path and query, e.g. `/api/orders/abc?x=1`. */
  url: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
  /** Where the request was addressed, e.g. `http://127.0.0.1:7071`; used to build absolute URLs. */
  origin: string;
}

export interface PlainResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): PlainResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body)),
  };
}

export function emptyResponse(status: number, headers: Record<string, string> = {}): PlainResponse {
  return { status, headers, body: Buffer.alloc(0) };
}

export class BodyTooLargeError extends Error {}

/**
 * Reads a node request into a PlainRequest; rejects with BodyTooLargeError past `maxBytes`. Past
 * the limit the rest of the body is read and dropped, not left unread: a socket closed with
 * unread data is reset by the kernel, and the client may never see the 413 it was sent.
 */
export function readNodeRequest(req: IncomingMessage, maxBytes: number): Promise<PlainRequest> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size <= maxBytes) return void chunks.push(buffer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume();
      reject(new BodyTooLargeError(`Request body is larger than ${maxBytes} bytes`));
    };
    const onEnd = () => resolve(plainRequest(req, Buffer.concat(chunks)));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}

function plainRequest(req: IncomingMessage, body: Buffer): PlainRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const host = headers.host ?? 'localhost';
  return { method: (req.method ?? 'GET').toUpperCase(), url: req.url ?? '/', headers, body, origin: `http://${host}` };
}

export function writeNodeResponse(res: ServerResponse, response: PlainResponse): void {
  const headers = { ...response.headers, 'content-length': String(response.body.length) };
  res.writeHead(response.status, headers);
  res.end(response.body);
}

/** Parses a JSON request body; empty means no value. Throws SyntaxError for bad JSON. */
export function parseJsonBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  return text.trim() === '' ? undefined : JSON.parse(text);
}
