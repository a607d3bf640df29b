/** HTTP helpers for the end-to-end tests: JSON over fetch, raw bytes over a socket, polling. */
import { connect } from 'node:net';

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  json: T;
  text: string;
}

export async function call<T = unknown>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json: json as T, text };
}

/** Polls `read` until `done` holds for its value; fails with the last value after `timeoutMs`. */
export async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`gave up waiting after ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Writes raw bytes to the server and collects what comes back until the server closes the
 * connection or `waitMs` passes. `keepWriting` supplies more bytes for as long as it returns some.
 */
export function rawExchange(
  baseUrl: string,
  request: string | Buffer,
  options: { waitMs?: number; keepWriting?: () => Buffer | undefined } = {},
): Promise<{ response: string; closed: boolean; elapsedMs: number }> {
  const { hostname, port } = new URL(baseUrl);
  const started = Date.now();
  return new Promise((resolve) => {
    let response = '';
    let finished = false;
    const socket = connect({ host: hostname, port: Number(port) });
    const finish = (closed: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ response, closed, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), options.waitMs ?? 5000);
    socket.on('data', (chunk) => (response += chunk.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      socket.write(request);
      const more = options.keepWriting;
      if (!more) return;
      const pump = () => {
        for (let next = more(); next && !finished; next = more())
          if (!socket.write(next)) return void socket.once('drain', pump);
      };
      pump();
    });
  });
}
