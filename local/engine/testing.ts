/**
 * The jest front door: load the app's registrations, run them on an engine with virtual time,
 * and serve the management API on an ephemeral loopback port. The app's own `df.getClient(context)`
 * calls reach the engine unchanged: through the SDK and its axios, answered in process as the
 * offline host does (in-process-client.ts), or over that port (`durableClient: 'loopback'`).
 *
 *   const app = await startTestApp({ entry: require.resolve('../../src/index') });
 *   const res = await app.http('POST', '/api/orders', { body: order });
 *   await app.settle();
 *
 * The middle layer: load only an orchestrator and stand in for its activities by registered name,
 * so every branch runs on virtual time with no database and no magic inputs.
 *
 *   const app = await startTestApp({
 *     entry: require.resolve('../../src/services/orders/place-order.orchestrator'),
 *     activities: { chargePayment: () => ({ type: 'PaymentDeclined', reason: 'insufficient funds' }) },
 *   });
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultInjector } from './activities';
import { durableClientData, type DurableClientData } from './client-binding';
import { VirtualClock } from './clock';
import { Engine, type InstanceStatus } from './engine';
import { runEpisode, type EpisodeOutcome, type LogHandler } from './episode';
import type { HistoryEvent } from './history';
import { createHostHandler, faultResponse, handleHostRequest } from './host-handler';
import { HttpInvoker } from './http-invoker';
import { durableFunctionsAxios, serveClientInProcess } from './in-process-client';
import { loadRegistry, type ActivityHandler, type FunctionRegistry } from './registry';
import type { InstanceStore } from './store';

export interface TestAppOptions {
  /** Modules to load first so their functions get registered, e.g. `require.resolve('../../src/index')`. */
  entry?: string | string[];
  /** Where virtual time starts; now by default. */
  startTime?: number | Date;
  maxConcurrentActivities?: number;
  faults?: FaultInjector;
  store?: InstanceStore;
  /** The app's `context.log` output; `'console'` prints it, default is silent. */
  log?: LogHandler | 'console';
  /**
   * Stand-ins for activities, by registered name: each replaces the app's registration of that
   * name, or adds one when the entry did not register it. A stub's return value is the activity's
   * result; a throw (or rejection) is the activity failing, and its retry policy applies.
   */
  activities?: Record<string, ActivityStub>;
  /**
   * How the app's durable client calls reach the engine: answered in process (default, as the
   * offline host does) or over the loopback port (as under func start, to compare the two).
   */
  durableClient?: 'in-process' | 'loopback';
}

/** An activity stand-in: given the activity's input and which call of this name it is (from 1). */
export type ActivityStub = (input: unknown, call: { name: string; count: number }) => unknown;

export interface TestRequestOptions {
  /** Sent as JSON (content-type application/json unless given). */
  body?: unknown;
  /** Sent as is. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
}

export interface ReplayResult {
  outcome: EpisodeOutcome;
  /** The SDK's actions as plain JSON (what the extension would receive). */
  actions: unknown[][];
}

export interface TestApp {
  engine: Engine;
  clock: VirtualClock;
  registry: FunctionRegistry;
  /** Origin of the loopback server (management API and the app's HTTP functions). */
  baseUrl: string;
  clientData: DurableClientData;
  /** Requests the loopback server has answered so far (app.http() does not go through it). */
  loopbackRequests(): number;
  http(method: string, path: string, options?: TestRequestOptions): Promise<TestResponse>;
  /** Runs until nothing is runnable; `fastForward` also skips virtual time to each due timer. */
  settle(options?: { fastForward?: boolean }): Promise<void>;
  advanceTime(ms: number): Promise<void>;
  waitFor(
    instanceId: string,
    predicate: (status: InstanceStatus) => boolean,
    options?: { timeoutMs?: number },
  ): Promise<InstanceStatus>;
  /** Status with history. */
  status(instanceId: string): InstanceStatus | undefined;
  /** Runs one orchestrator episode over a given history, outside any instance. */
  replay(
    orchestration: string,
    history: HistoryEvent[],
    options?: { input?: unknown; instanceId?: string },
  ): Promise<ReplayResult>;
  stop(): Promise<void>;
}

const consoleLog: LogHandler = (level, functionName, ...args) => console.log(`[${level}] ${functionName}:`, ...args);

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  // A plain require on purpose: under jest it is jest's, so the functions-core mapping applies.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const entry of [options.entry ?? []].flat()) require(entry);
  const registry = loadRegistry();
  for (const [name, stub] of Object.entries(options.activities ?? {}))
    registry.activities.set(name, stubActivity(name, stub));
  const log = options.log === 'console' ? consoleLog : options.log;
  const clock = new VirtualClock(options.startTime ?? Date.now());
  const engine = new Engine({
    registry,
    clock,
    store: options.store,
    maxConcurrentActivities: options.maxConcurrentActivities,
    faults: options.faults,
    log,
  });

  let baseUrl = '';
  const invoker = new HttpInvoker({ registry, clientData: () => durableClientData(baseUrl), log });
  const handler = createHostHandler({ engine, invoker });
  let loopbackRequests = 0;
  const server = createServer((req, res) => {
    loopbackRequests += 1;
    handler(req, res);
  });
  // Longer than the client's idle keep-alive, so a pooled connection is never closed under a request.
  server.keepAliveTimeout = 130_000;
  baseUrl = await listen(server);
  const stopInProcess =
    options.durableClient === 'loopback'
      ? undefined
      : serveClientInProcess(durableFunctionsAxios(__dirname), durableClientData(baseUrl).rpcBaseUrl, (request) =>
          handleHostRequest({ engine }, request).catch(faultResponse),
        );

  return {
    engine,
    clock,
    registry,
    baseUrl,
    clientData: durableClientData(baseUrl),
    loopbackRequests: () => loopbackRequests,
    async http(method, path, requestOptions = {}) {
      const headers = Object.fromEntries(
        Object.entries(requestOptions.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
      );
      let body = Buffer.alloc(0);
      if (requestOptions.rawBody !== undefined) body = Buffer.from(requestOptions.rawBody);
      else if (requestOptions.body !== undefined) {
        body = Buffer.from(JSON.stringify(requestOptions.body));
        headers['content-type'] ??= 'application/json';
      }
      if (body.length > 0) headers['content-length'] ??= String(body.length);
      headers.host = new URL(baseUrl).host;
      const response = await handleHostRequest(
        { engine, invoker },
        { method: method.toUpperCase(), url: path, headers, body, origin: baseUrl },
      );
      const text = response.body.toString('utf8');
      return {
        status: response.status,
        headers: response.headers,
        text,
        json: parseJson(text, response.headers['content-type']),
      };
    },
    settle: (settleOptions) => engine.settle(settleOptions),
    advanceTime: (ms) => engine.advanceTime(ms),
    waitFor: (instanceId, predicate, waitOptions) => engine.waitFor(instanceId, predicate, waitOptions),
    status: (instanceId) => engine.getStatus(instanceId, { showHistory: true }),
    async replay(orchestration, history, replayOptions = {}) {
      const fn = registry.orchestrations.get(orchestration);
      if (!fn) throw new Error(`No orchestrator function named '${orchestration}' is registered`);
      const outcome = await runEpisode({
        name: fn.name,
        handler: fn.handler,
        options: fn.options,
        instanceId: replayOptions.instanceId ?? 'replay',
        input: replayOptions.input,
        history,
        log,
      });
      const actions = outcome.ok
        ? (JSON.parse(JSON.stringify(outcome.state.actions)) as unknown[][])
        : ((outcome.state?.actions as unknown[][]) ?? []);
      return { outcome, actions };
    },
    async stop() {
      engine.stop();
      stopInProcess?.();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function stubActivity(name: string, stub: ActivityStub) {
  let count = 0;
  const handler: ActivityHandler = (input) => stub(input, { name, count: (count += 1) });
  return {
    name,
    handler,
    options: { trigger: { name: 'input', type: 'activityTrigger' }, extraInputs: [], extraOutputs: [] },
  };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

function parseJson(text: string, contentType: string | undefined): unknown {
  if (!text || !/json/i.test(contentType ?? '')) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
