/**
 * The offline host: what `func start` does, without Core Tools. It loads the app from its
 * bundle, runs it on a durable backend — local/engine in real (optionally sped-up) time with a
 * store on disk, or (DURABLE_BACKEND=extension) the real Durable extension in a .NET host on
 * Azurite — serves its HTTP functions and the durable management API, and stops gracefully.
 * Embedded dependencies fill in for what the environment does not configure.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultTaskHubName, durableClientData, RPC_BASE_PATH } from '../engine/client-binding';
import { Engine } from '../engine/engine';
import { createHostHandler, faultResponse, handleHostRequest } from '../engine/host-handler';
import { serveClientInProcess } from '../engine/in-process-client';
import { HttpInvoker } from '../engine/http-invoker';
import type { FunctionRegistry } from '../engine/registry';
import { isTerminal } from '../engine/store';
import { provisionLocalDatabases, provisionLocalQueues, seedDemoCatalog } from '../dependencies/provision';
import { lockDataDir } from './data-lock';
import { ensureDependencies, type Dependencies } from './dependencies';
import { openDurableState } from './durable-state';
import { appAxios, loadApp } from './load-app';
import type { HostLogger } from './logger';
import { createHostServer } from './server';
import type { DurableBackend, HostSettings } from './settings';
import { startExtensionBackend } from '../extension/backend';
import { QueueTriggers } from '../engine/queue-triggers';
import { WorkerThread } from './worker-thread';

export interface RunningHost {
  /** Where the app is served, e.g. http://127.0.0.1:7071. */
  origin: string;
  backend: DurableBackend;
  /** The durable engine (the engine backend only). */
  engine?: Engine;
  registry: FunctionRegistry;
  /** Graceful stop; resolves false if running work outlasted the grace period. */
  close(): Promise<boolean>;
}

/** A backend as started; its close also waits (within the same grace) for what else still runs. */
type StartedBackend = Omit<RunningHost, 'close'> & { close(alsoRunning: Promise<unknown>): Promise<boolean> };

export async function startHost(settings: HostSettings, log: HostLogger): Promise<RunningHost> {
  const releaseLock = lockDataDir(settings.dataDir);
  try {
    const dependencies = await ensureDependencies({ dataDir: settings.dataDir, log });
    // The app reads its settings lazily, so setting them before it loads is enough.
    process.env.COSMOS_ENDPOINT = dependencies.cosmosEndpoint;
    if (dependencies.storageConnection) process.env.AzureWebJobsStorage = dependencies.storageConnection;
    await prepareData(dependencies, log);
    const registry = loadApp(settings.appEntry);
    const started =
      settings.backend === 'extension'
        ? await startOnExtension(settings, log, registry)
        : await startOnEngine(settings, log, registry, dependencies);
    // Queue triggers poll on wall time, as the host's queue listener does, on either backend.
    const { hostJson } = settings;
    const queues = new QueueTriggers(registry, {
      maxDequeueCount: hostJson.maxDequeueCount,
      retryDelaySeconds: hostJson.queueRetryDelaySeconds,
      log: log.app,
    });
    if (process.env.AzureWebJobsStorage || process.env.AzureWebJobsStorage__queueServiceUri) queues.start();
    return {
      ...started,
      async close() {
        // The queue functions still running finish alongside the HTTP requests, once the
        // front has stopped taking new ones, within the one grace period.
        try {
          return await started.close(queues.stop());
        } finally {
          releaseLock();
        }
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

async function startOnExtension(
  settings: HostSettings,
  log: HostLogger,
  registry: FunctionRegistry,
): Promise<StartedBackend> {
  const storageConnection = process.env.AzureWebJobsStorage;
  if (!storageConnection)
    throw new Error(
      'DURABLE_BACKEND=extension needs AzureWebJobsStorage (a connection string), or none set so the embedded Azurite is used',
    );
  const backend = await startExtensionBackend({
    settings,
    log,
    registry,
    storageConnection,
    listen,
    createFront: (route) =>
      createHostServer({
        route,
        maxBodyBytes: settings.maxBodyBytes,
        requestTimeoutMs: settings.requestTimeoutMs,
        headersTimeoutMs: settings.headersTimeoutMs,
        fallbackOrigin: () => `http://127.0.0.1:${settings.port}`,
        homePath: homePath(settings.hostJson.routePrefix),
        log,
      }),
  });
  return {
    origin: backend.origin,
    backend: 'extension',
    registry,
    async close(alsoRunning) {
      await Promise.race([alsoRunning, sleep(settings.shutdownGraceMs)]);
      return backend.close();
    },
  };
}

async function startOnEngine(
  settings: HostSettings,
  log: HostLogger,
  registry: FunctionRegistry,
  dependencies: Dependencies,
): Promise<StartedBackend> {
  const durable = openDurableState({
    dataDir: settings.dataDir,
    dataIdentity: dependencies.dataIdentity,
    timeScale: settings.timeScale,
    fsync: settings.fsync,
    log,
  });
  // A sped-up durable clock runs ahead of the wall clock; the app's "now" (the timeline's
  // now-line) follows it. Unset under func start and in Azure, where durable time is wall time.
  if (durable.clock.speed !== 1) {
    const { wallMs, clockMs } = durable.clock.anchor();
    process.env.DURABLE_CLOCK = `${wallMs}:${clockMs}:${durable.clock.speed}`;
  }
  const { hostJson } = settings;
  // The thread dies only as the whole process would have (an app's process.exit, an uncaught
  // exception): then the host stops too, as a crash, and the next start resumes what was in flight.
  const workerThread = new WorkerThread(settings.appEntry, log, (error) => {
    log.error('stopping: the worker thread running the activities and orchestrations is gone', error);
    process.exit(1);
  });
  workerThread.adopt(registry);
  workerThread.warmUp();
  const engine = new Engine({
    registry,
    clock: durable.clock,
    store: durable.store,
    maxConcurrentActivities: hostJson.maxConcurrentActivityFunctions,
    maxConcurrentOrchestrations: hostJson.maxConcurrentOrchestratorFunctions,
    log: log.app,
  });
  const taskHubName = hostJson.hubName ?? defaultTaskHubName();

  // The durable client binding's RPC endpoint gets its own loopback port, as the extension's
  // does: an HTTP function still running during shutdown can reach the engine after the public
  // port stopped accepting.
  // Its answers reach the outside only through the HTTP function's own answer on the public
  // port, which waits for the store (host-handler.ts): waiting here too would only add flushes.
  const rpcOptions = { engine, taskHubName, acknowledge: false };
  const rpcHandler = createHostHandler(rpcOptions);
  /** Set once the app's durable client calls are answered in process (below). */
  let stopInProcess: (() => void) | undefined;
  let missWarned = false;
  const rpcServer = createServer((req, res) => {
    // Only the SDK's axios says so; if it still comes here, the in-process path below was
    // installed on an axios copy the app does not use (a changed bundle layout, say).
    if (stopInProcess && !missWarned && req.headers['user-agent']?.startsWith('axios/')) {
      missWarned = true;
      log.warn(
        "a durable client call reached the RPC port: the app's axios is not the copy it is answered in process on",
      );
    }
    rpcHandler(req, res);
  });
  // Longer than the client's idle keep-alive (5 s), so a pooled connection is never closed under a request.
  rpcServer.keepAliveTimeout = 130_000;
  const rpcBaseUrl = `${await listen(rpcServer, 0)}${RPC_BASE_PATH}`;
  // The SDK's own calls to it (startNew, getStatus, raiseEvent, terminate…) are answered in
  // process by the same handler, without the loopback HTTP the real host needs between the
  // extension and the worker (in-process-client.ts). The port stays for everything else that
  // calls rpcBaseUrl (the app's plain fetch of an instance's history). Installed on the first
  // client binding, when the app is about to load axios anyway, so the start does not pay for it.
  const inProcessClient = () => {
    if (stopInProcess) return;
    stopInProcess = serveClientInProcess(appAxios(settings.appEntry), rpcBaseUrl, (request) =>
      handleHostRequest(rpcOptions, request).catch(faultResponse),
    );
    log.info("the app's durable client calls are answered in process, not over the RPC port");
  };
  let origin = '';
  const invoker = new HttpInvoker({
    registry,
    clientData: () => {
      inProcessClient();
      return { ...durableClientData(origin, taskHubName), rpcBaseUrl };
    },
    routePrefix: hostJson.routePrefix,
    log: log.app,
  });
  const front = createHostServer({
    route: (request) => handleHostRequest({ engine, invoker, taskHubName }, request),
    maxBodyBytes: settings.maxBodyBytes,
    requestTimeoutMs: settings.requestTimeoutMs,
    headersTimeoutMs: settings.headersTimeoutMs,
    fallbackOrigin: () => origin,
    homePath: homePath(hostJson.routePrefix),
    log,
  });

  origin = await listen(front.server, settings.port).catch(async (error: NodeJS.ErrnoException) => {
    // Nothing ran yet; what started stops, so an in-process caller (a test) is left with no thread.
    rpcServer.close();
    await workerThread.close();
    await durable.store.close();
    durable.clock.dispose();
    throw error.code === 'EADDRINUSE'
      ? new Error(`port ${settings.port} is in use: stop what uses it or set PORT`)
      : error;
  });
  // As Core Tools does for the worker: without it the SDK rewrites the links it hands out
  // (createCheckStatusResponse) to http://localhost:7071, whatever the port.
  process.env.WEBSITE_HOSTNAME = new URL(origin).host;
  logRecovery(engine, log);
  engine.recover();
  log.info('durable backend: local/engine (set DURABLE_BACKEND=extension for the real Durable extension)');

  return {
    origin,
    backend: 'engine',
    engine,
    registry,
    async close(alsoRunning) {
      const deadline = Date.now() + settings.shutdownGraceMs;
      const remaining = () => Math.max(0, deadline - Date.now());
      log.info(`shutting down: no new requests; running work gets up to ${settings.shutdownGraceMs} ms`);
      front.server.close();
      front.server.closeIdleConnections();
      await Promise.race([Promise.all([front.whenIdle(), alsoRunning]), sleep(remaining())]);
      const drained = await engine.shutdown(remaining());
      try {
        await workerThread.close();
        await durable.store.close();
      } finally {
        // Also when the store's last flush failed: close() reports that, and leaves nothing running.
        front.server.closeAllConnections();
        stopInProcess?.();
        rpcServer.closeAllConnections();
        rpcServer.close();
        durable.clock.dispose();
      }
      log.info(
        drained
          ? 'stopped; everything in flight is stored'
          : 'stopped before all running work finished; it runs again on the next start',
      );
      return drained;
    },
  };
}

/** Databases, catalog and queue, idempotently: a host killed while seeding finishes it next time. */
async function prepareData(dependencies: Dependencies, log: HostLogger): Promise<void> {
  if (dependencies.dataIdentity.startsWith('embedded')) {
    await provisionLocalDatabases();
    await seedDemoCatalog();
    if (dependencies.freshCosmos) log.info('created the databases and seeded the demo catalog');
  } else {
    log.info(
      `using COSMOS_ENDPOINT ${dependencies.cosmosEndpoint} as it is (run \`npm run seed\` once to create the databases and the catalog)`,
    );
  }
  try {
    await provisionLocalQueues();
  } catch (error) {
    log.warn(`could not create the dead-letter queue: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function logRecovery(engine: Engine, log: HostLogger): void {
  const inFlight = engine.store.list().filter((record) => !isTerminal(record.status));
  if (inFlight.length === 0) return;
  const activities = inFlight.reduce((sum, record) => sum + Object.keys(record.pendingActivities).length, 0);
  const timers = inFlight.reduce((sum, record) => sum + Object.keys(record.pendingTimers).length, 0);
  log.info(
    `resuming ${inFlight.length} instance(s) in flight: ${activities} activity call(s) dispatched again, ${timers} timer(s) re-armed`,
  );
}

function listen(server: Server, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Where `/` leads: the timeline page. */
const homePath = (routePrefix: string) => `/${routePrefix ? `${routePrefix}/` : ''}timeline`;
