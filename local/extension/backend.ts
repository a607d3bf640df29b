/**
 * The extension backend (`DURABLE_BACKEND=extension`): the real Durable extension runs the
 * app's orchestrations and activities, in a .NET WebJobs host (local/extension/host/) that plays
 * the Functions host's part, against Azurite. This Node process plays the Node worker's part: it
 * runs the app's captured handlers for every episode and activity the .NET host forwards (the
 * bridge), and serves the app's HTTP functions with the extension's own durable client binding,
 * handing `/runtime/webhooks/durabletask/*` to the extension. The SDK's DurableClient talks to
 * the extension's RPC endpoint directly (`rpcBaseUrl` in that binding).
 */
import { InvocationContext } from '@azure/functions';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { defaultTaskHubName, WEBHOOK_BASE_PATH, type DurableClientData } from '../engine/client-binding';
import { readNodeRequest, type PlainRequest, type PlainResponse } from '../engine/http-message';
import { HttpInvoker } from '../engine/http-invoker';
import type { FunctionRegistry } from '../engine/registry';
import type { HostLogger } from '../host/logger';
import type { HostSettings } from '../host/settings';
import { buildExtensionHost, dotnetEnv, HOST_DLL } from './build';

export const EXTENSION_MARKER = 'DurableHost.dll';
export const extensionPidFile = (dataDir: string) => join(dataDir, 'extension.pid');

export interface ExtensionBackendOptions {
  settings: HostSettings;
  log: HostLogger;
  registry: FunctionRegistry;
  /** AzureWebJobsStorage for the task hub: Azurite with blob, queue and table services. */
  storageConnection: string;
  /** Listens the public front; resolves its origin. */
  listen: (server: Server, port: number) => Promise<string>;
  createFront: (route: (request: PlainRequest) => Promise<PlainResponse>) => {
    server: Server;
    whenIdle(): Promise<void>;
  };
}

export interface RunningExtensionBackend {
  origin: string;
  /** The .NET host's process id. */
  pid: number;
  close(): Promise<boolean>;
}

interface ReadyLine {
  webhookOrigin: string;
  clientBinding: string;
}

/** Options that make the Azure Storage provider quick on Azurite, under what host.json says. */
const LOCAL_STORAGE_TUNING = { storageProvider: { partitionCount: 1, maxQueuePollingInterval: '00:00:00.100' } };

export async function startExtensionBackend(options: ExtensionBackendOptions): Promise<RunningExtensionBackend> {
  const { settings, log, registry } = options;
  if (buildExtensionHost((message) => log.info(message))) log.info('built the extension backend');

  const bridge = createServer((req, res) => void serveBridge(registry, log, req, res));
  bridge.keepAliveTimeout = 130_000;
  const bridgeOrigin = await options.listen(bridge, 0);

  let ready: ReadyLine | undefined;
  // Filled in once the .NET host is ready; no request reaches the invoker before that.
  const client: { data?: DurableClientData } = {};
  const invoker = new HttpInvoker({
    registry,
    clientData: () => client.data!,
    routePrefix: settings.hostJson.routePrefix,
    log: log.app,
  });
  let whenReady!: () => void;
  const readyGate = new Promise<void>((resolve) => (whenReady = resolve));
  const front = options.createFront(async (request) => {
    await readyGate;
    if (new URL(request.url, 'http://host').pathname.startsWith(WEBHOOK_BASE_PATH))
      return forwardWebhook(ready!.webhookOrigin, request);
    return invoker.invoke(request);
  });
  let origin: string;
  try {
    origin = await options.listen(front.server, settings.port);
  } catch (error) {
    bridge.close();
    throw (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? new Error(`port ${settings.port} is in use: stop what uses it or set PORT`)
      : error;
  }
  process.env.WEBSITE_HOSTNAME = new URL(origin).host;

  const child = spawnDotnetHost(settings, options.storageConnection, bridgeOrigin, origin);
  writeFileSync(extensionPidFile(settings.dataDir), `${child.pid}\n`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    ready = await waitForReady(child, join(settings.dataDir, 'logs', 'extension.log'), exited);
  } catch (error) {
    child.kill('SIGKILL');
    front.server.close();
    bridge.close();
    rmSync(extensionPidFile(settings.dataDir), { force: true });
    throw error;
  }
  const clientData = JSON.parse(ready.clientBinding) as DurableClientData;
  client.data = clientData;
  whenReady();
  log.info(
    `durable backend: the real Durable extension (.NET host pid ${child.pid}, task hub ${clientData.taskHubName} on Azurite; log in ${join(settings.dataDir, 'logs', 'extension.log')})`,
  );
  let closing = false;
  void exited.then((code) => {
    if (!closing)
      log.error(
        `the extension's .NET host exited (${code}) while the host was running: see ${join(settings.dataDir, 'logs', 'extension.log')}`,
      );
  });

  return {
    origin,
    pid: child.pid!,
    async close() {
      closing = true;
      const deadline = Date.now() + settings.shutdownGraceMs;
      log.info(`shutting down: no new requests; the extension's host gets up to ${settings.shutdownGraceMs} ms`);
      front.server.close();
      front.server.closeIdleConnections();
      await Promise.race([front.whenIdle(), sleep(Math.max(0, deadline - Date.now()))]);
      // The console lifetime stops the WebJobs host on SIGTERM; running activities finish.
      child.kill('SIGTERM');
      const code = await Promise.race([
        exited,
        sleep(Math.max(1000, deadline - Date.now())).then(() => 'timeout' as const),
      ]);
      if (code === 'timeout') child.kill('SIGKILL');
      front.server.closeAllConnections();
      bridge.closeAllConnections();
      bridge.close();
      rmSync(extensionPidFile(settings.dataDir), { force: true });
      log.info(
        code === 'timeout'
          ? 'stopped the extension host by force; its work runs again on the next start'
          : 'stopped; the task hub keeps everything in flight',
      );
      return code !== 'timeout';
    },
  };
}

function spawnDotnetHost(
  settings: HostSettings,
  storage: string,
  bridgeOrigin: string,
  publicOrigin: string,
): ChildProcessWithoutNullStreams {
  const env: NodeJS.ProcessEnv = dotnetEnv({ ...process.env });
  // Makes the extension believe it runs on Linux Consumption and print every event to stdout.
  delete env.CONTAINER_NAME;
  Object.assign(env, {
    DURABLE_BRIDGE_URL: bridgeOrigin,
    PUBLIC_ORIGIN: publicOrigin,
    AzureWebJobsStorage: storage,
    // The legacy out-of-proc protocol, the one a Node app gets under `func start`.
    FUNCTIONS_WORKER_RUNTIME: 'node',
    Logging__LogLevel__Default: 'Warning',
    Logging__LogLevel__Host__Startup: 'Warning',
    ...configurationEnv(
      'AzureWebJobs:extensions:durableTask',
      merge(
        { ...settings.hostJson.durableTask, hubName: settings.hostJson.hubName ?? defaultTaskHubName() },
        LOCAL_STORAGE_TUNING,
      ),
    ),
  });
  return spawn('dotnet', [HOST_DLL], { cwd: settings.dataDir, env, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** host.json's section as the .NET configuration reads it from the environment (`a__b__c`). */
export function configurationEnv(prefix: string, value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string, item: unknown) => {
    if (typeof item === 'object' && item !== null) {
      for (const [key, child] of Object.entries(item)) walk(`${path}:${key}`, child);
    } else if (item !== undefined && item !== null) {
      out[path.replace(/:/g, '__')] = String(item);
    }
  };
  walk(prefix, value);
  return out;
}

function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = result[key];
    result[key] =
      typeof value === 'object' && value !== null && typeof current === 'object' && current !== null
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : (current ?? value);
  }
  return result;
}

async function waitForReady(
  child: ChildProcessWithoutNullStreams,
  logFile: string,
  exited: Promise<number | null>,
): Promise<ReadyLine> {
  const log = createWriteStream(logFile, { flags: 'w' });
  let tail = '';
  let found: ((line: ReadyLine) => void) | undefined;
  const line = new Promise<ReadyLine>((resolve) => (found = resolve));
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    if (!found) return;
    tail = (tail + chunk.toString()).slice(-200_000);
    const match = /DURABLE_HOST_READY (\{.*\})\r?\n/.exec(tail);
    if (match) {
      found(JSON.parse(match[1]) as ReadyLine);
      found = undefined;
      tail = '';
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', (chunk: Buffer) => log.write(chunk));
  const failed = exited.then((code) => {
    throw new Error(
      `the extension's .NET host exited (${code}) before it was ready; its log (${logFile}):\n${tail.slice(-4000)}`,
    );
  });
  const timeout = sleep(60_000).then(() => {
    throw new Error(`the extension's .NET host was not ready within 60 s; see ${logFile}`);
  });
  return Promise.race([line, failed, timeout]);
}

/** The extension's own HTTP API handler, through the .NET host's loopback listener. */
async function forwardWebhook(webhookOrigin: string, request: PlainRequest): Promise<PlainResponse> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (!['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length'].includes(name.toLowerCase()))
      headers[name] = value;
  }
  const response = await fetch(`${webhookOrigin}${request.url}`, {
    method: request.method,
    headers,
    body:
      ['GET', 'HEAD'].includes(request.method.toUpperCase()) || request.body.length === 0 ? undefined : request.body,
  });
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!['connection', 'keep-alive', 'transfer-encoding', 'content-length'].includes(name)) out[name] = value;
  });
  return { status: response.status, headers: out, body: Buffer.from(await response.arrayBuffer()) };
}

/** The worker's part: GET /functions, POST /orchestrations/{name}, POST /activities/{name}. */
async function serveBridge(
  registry: FunctionRegistry,
  log: HostLogger,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const reply = (status: number, body: string, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  try {
    const request = await readNodeRequest(req, 256 * 1024 * 1024);
    const path = new URL(request.url, 'http://bridge').pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (request.method === 'GET' && path[0] === 'functions') {
      return reply(
        200,
        JSON.stringify({
          orchestrations: [...registry.orchestrations.keys()],
          activities: [...registry.activities.keys()],
        }),
      );
    }
    const kind = path[0];
    const fn =
      kind === 'orchestrations'
        ? registry.orchestrations.get(path[1])
        : kind === 'activities'
          ? registry.activities.get(path[1])
          : undefined;
    if (request.method !== 'POST' || !fn)
      return reply(404, JSON.stringify({ message: `no function at ${request.url}` }));
    const context = new InvocationContext({
      functionName: fn.name,
      invocationId: randomUUID(),
      options: fn.options,
      logHandler: (level, ...args) => log.app(level, fn.name, ...args),
    });
    try {
      // As the worker reads a string binding: JSON when it parses, the text otherwise.
      const result = await (fn.handler as (input: unknown, context: InvocationContext) => unknown)(
        request.body.length === 0 ? undefined : tryJsonParse(request.body.toString('utf8')),
        context,
      );
      return reply(200, result === undefined ? '' : JSON.stringify(result));
    } catch (error) {
      return reply(422, failureText(error), 'text/plain; charset=utf-8');
    }
  } catch (error) {
    log.error('the extension bridge failed to handle a request', error);
    if (!res.headersSent)
      reply(500, JSON.stringify({ message: error instanceof Error ? error.message : String(error) }));
  }
}

/** The Functions host's text for a failed invocation (its RpcException), which the extension parses. */
export function failureText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  return `Result: Failure\nException: ${message}\nStack: ${stack}`;
}

export function tryJsonParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
