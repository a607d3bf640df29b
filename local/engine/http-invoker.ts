/**
 * Invokes the app's HTTP functions the way the Functions host and worker do: match the route
 * (under the `api/` prefix) and method, build an HttpRequest, hand the handler a new
 * InvocationContext with its durable client input filled in, and turn whatever it returns
 * (HttpResponseInit or HttpResponse) into status, headers and body.
 */
import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { isDurableClientBinding, type DurableClientData } from './client-binding';
import type { LogHandler } from './episode';
import { emptyResponse, jsonResponse, type PlainRequest, type PlainResponse } from './http-message';
import type { FunctionRegistry, HttpFunction } from './registry';
import { compileRoute, type CompiledRoute } from './routes';

export interface HttpInvokerOptions {
  registry: FunctionRegistry;
  /** The value for `durableClient` inputs; a function so it can follow the server's address. */
  clientData: () => DurableClientData;
  /** host.json's extensions.http.routePrefix; `api` by default. */
  routePrefix?: string;
  log?: LogHandler;
}

/** Hop-by-hop headers describe the connection to this server, not the request. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

export class HttpInvoker {
  private readonly routes: { fn: HttpFunction; route: CompiledRoute }[];
  private readonly prefix: string;

  constructor(private readonly options: HttpInvokerOptions) {
    this.routes = options.registry.http
      .map((fn) => ({ fn, route: compileRoute(fn.route) }))
      .sort((a, b) => b.route.specificity - a.route.specificity);
    const prefix = (options.routePrefix ?? 'api').replace(/^\/+|\/+$/g, '');
    this.prefix = prefix ? `/${prefix}/` : '/';
  }

  async invoke(request: PlainRequest): Promise<PlainResponse> {
    const url = new URL(request.url, request.origin);
    if (!`${url.pathname}/`.startsWith(this.prefix)) return notFound(url.pathname);
    const path = url.pathname.slice(this.prefix.length);
    const method = request.method.toUpperCase();
    const matching = this.routes.flatMap(({ fn, route }) => {
      const params = route.match(path);
      return params ? [{ fn, params }] : [];
    });
    if (matching.length === 0) return notFound(url.pathname);
    const chosen = matching.find(({ fn }) => fn.methods.length === 0 || fn.methods.includes(method));
    if (!chosen) {
      const allowed = [...new Set(matching.flatMap(({ fn }) => fn.methods))];
      return jsonResponse(
        405,
        { message: `${method} is not allowed on ${url.pathname}` },
        { allow: allowed.join(', ') },
      );
    }
    return this.call(chosen.fn, request, url, chosen.params);
  }

  private async call(
    fn: HttpFunction,
    request: PlainRequest,
    url: URL,
    params: Record<string, string>,
  ): Promise<PlainResponse> {
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())),
    );
    const context = new InvocationContext({
      functionName: fn.name,
      invocationId: randomUUID(),
      options: fn.options,
      logHandler: (level, ...args) => this.options.log?.(level, fn.name, ...args),
    });
    for (const input of fn.options.extraInputs) {
      if (isDurableClientBinding(input)) context.extraInputs.set(input.name, this.options.clientData());
    }
    try {
      const httpRequest = new HttpRequest({
        method: request.method.toUpperCase(),
        url: url.href,
        headers,
        params,
        body: request.body.length > 0 ? { bytes: request.body } : undefined,
      });
      return await toPlainResponse(await fn.handler(httpRequest, context));
    } catch (error) {
      // The host answers an unhandled exception with a bare 500.
      this.options.log?.('error', fn.name, 'HTTP function failed', error);
      return emptyResponse(500);
    }
  }
}

function notFound(path: string): PlainResponse {
  return jsonResponse(404, { message: `No HTTP function is registered for ${path}` });
}

function isHttpResponse(value: unknown): value is HttpResponse {
  // Duck-typed: a second copy of @azure/functions (e.g. nested under another package) has its own class.
  return (
    value instanceof HttpResponse ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as HttpResponse).arrayBuffer === 'function' &&
      'status' in value)
  );
}

async function toPlainResponse(result: unknown): Promise<PlainResponse> {
  if (result === undefined || result === null) return emptyResponse(204);
  if (typeof result !== 'object')
    throw new Error('An HTTP function must return an object (HttpResponseInit or HttpResponse)');
  const response = isHttpResponse(result) ? result : new HttpResponse(result as HttpResponseInit);
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  return { status: response.status, headers, body: Buffer.from(await response.arrayBuffer()) };
}
