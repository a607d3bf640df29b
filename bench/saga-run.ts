/**
 * The throughput and latency run: the real app on the durable engine on real time (RealClock),
 * against a local Cosmos server and Azurite's queues (the saga publishes each order's ending to
 * the order-events queue) that this run starts and always stops. Orders go in through the app's
 * own HTTP function (POST /api/orders, as the jest front door sends them), so placing an order
 * includes what it costs a caller: the function, its durable client round trips and startNew.
 */
import './functions-core-hook'; // first: the app's registrations must find @azure/functions-core
import '../src/index';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { durableClientData } from '../local/engine/client-binding';
import { RealClock } from '../local/engine/clock';
import { Engine } from '../local/engine/engine';
import { createHostHandler, handleHostRequest } from '../local/engine/host-handler';
import { HttpInvoker } from '../local/engine/http-invoker';
import { loadRegistry } from '../local/engine/registry';
import { isTerminal } from '../local/engine/store';
import { startAzuriteQueues, type RunningAzurite } from '../local/dependencies/azurite';
import { startCosmosServer, type RunningCosmos } from '../local/dependencies/cosmos-server';
import { provisionLocalDatabases, provisionLocalQueues, seedDemoCatalog } from '../local/dependencies/provision';
import type { SeedItem } from '../local/dependencies/seed-data';
import { resetCosmosClients } from '../src/libs/cosmos';
import type { OrderView } from '../src/services/orders/order-view';
import type { BenchConfig } from './config';
import { Instruments, ObservedStore } from './instrument';
import { analyzeOrders, type OrderTiming, type SagaAnalysis } from './saga-analysis';

export interface SagaRunResult {
  analysis: SagaAnalysis;
  wallMs: number;
  ordersPerSecond: number;
  completed: number;
  failed: { orderId: string; reason: string }[];
  historyEventsPerOrder: number;
  episodesPerOrder: number;
  replayCpuMsPerOrder: number;
  replayWallMsPerOrder: number;
  cosmosRequestsPerOrder: number;
  cosmosRequestsByActivityPerOrder: Record<string, number>;
  cosmosRequestsByKind: Record<string, number>;
  /** Per order, by database: one database per bounded context. */
  cosmosRequestsByContextPerOrder: Record<string, number>;
  /** Activity handler runs per completed order (retries included), and by activity. */
  activityExecutionsPerOrder: number;
  activityExecutionsByNamePerOrder: Record<string, number>;
  cosmosServerPid: number;
  /** CPU of this process (engine, app, SDK, Cosmos client) during the measured run, per order. */
  benchProcessCpuMsPerOrder: number;
  /** CPU of the local Cosmos server process during the measured run, per order (Linux only). */
  cosmosServerCpuMsPerOrder: number | null;
  /** The engine's instance store (JSON copies of whole records) during the measured run, per order. */
  store: { copyMsPerOrder: number; getsPerOrder: number; putsPerOrder: number };
  setupMs: number;
}

/** Cleanup the caller must run whatever happens (also on SIGINT): stops the Cosmos server and Azurite by PID. */
export interface SagaRun {
  result: Promise<SagaRunResult>;
  stop(): Promise<void>;
  /** The PIDs of the local Cosmos server and Azurite while they may be running (for a last-resort kill at exit). */
  dependencyPids(): number[];
}

export function startSagaRun(config: BenchConfig, log: (line: string) => void): SagaRun {
  let cosmos: RunningCosmos | undefined;
  let azurite: RunningAzurite | undefined;
  let server: Server | undefined;
  let engine: Engine | undefined;
  let clock: RealClock | undefined;
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    engine?.stop();
    clock?.dispose();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    resetCosmosClients();
    await Promise.all([cosmos?.stop(), azurite?.stop()]);
  };

  const run = async (): Promise<SagaRunResult> => {
    const setupStart = performance.now();
    const [startedCosmos, startedAzurite] = await Promise.allSettled([startCosmosServer(), startAzuriteQueues()]);
    if (startedCosmos.status === 'fulfilled') cosmos = startedCosmos.value;
    if (startedAzurite.status === 'fulfilled') azurite = startedAzurite.value;
    if (stopped || !cosmos || !azurite) {
      // Stopped (e.g. Ctrl-C) while they were starting, or one did not start: stop() could not see them yet.
      await Promise.all([cosmos?.stop(), azurite?.stop()]);
      if (startedCosmos.status === 'rejected') throw startedCosmos.reason;
      if (startedAzurite.status === 'rejected') throw startedAzurite.reason;
      throw new Error('stopped');
    }
    log(`local Cosmos server pid ${cosmos.pid} at ${cosmos.endpoint}, Azurite queues pid ${azurite.pid}`);
    process.env.COSMOS_ENDPOINT = cosmos.endpoint;
    // Without a queue service the saga's last step (publishing the order's ending) fails and is
    // retried for ~15 s per order before the saga gives up on it: the run would measure that.
    process.env.AzureWebJobsStorage = azurite.connectionString;
    process.env.SIMULATED_LATENCY_MS = config.latency;
    resetCosmosClients();
    await Promise.all([provisionLocalDatabases(), provisionLocalQueues()]);
    await seedDemoCatalog(benchCatalog(config), { reset: true });

    const instruments = new Instruments();
    instruments.countRequestsTo(cosmos.endpoint);
    const registry = loadRegistry();
    instruments.wrap(registry);
    // Completion: the moment the engine stores the orchestration as finished.
    const waiting = new Map<string, { timing: OrderTiming; resolve: () => void }>();
    const store = new ObservedStore((record) => {
      const entry = waiting.get(record.instanceId);
      if (!entry) return;
      const now = performance.now();
      const view = record.customStatus as OrderView | null;
      if (entry.timing.visibleFinalAt === undefined && view?.status === 'Completed') entry.timing.visibleFinalAt = now;
      if (isTerminal(record.status)) {
        entry.timing.finishedAt = now;
        entry.timing.runtimeStatus = record.status;
        const output = record.output as OrderView | null;
        entry.timing.finalStatus = output?.status ?? 'unknown';
        // A step that gave up (e.g. the outcome not published) is not the happy path this run measures.
        if (output?.warnings?.length)
          entry.timing.error = `ended ${output.status} with warnings: ${output.warnings.join('; ')}`;
        waiting.delete(record.instanceId);
        entry.resolve();
      }
    });
    clock = new RealClock();
    engine = new Engine({ registry, clock, store });
    let baseUrl = '';
    const invoker = new HttpInvoker({ registry, clientData: () => durableClientData(baseUrl) });
    server = createServer(createHostHandler({ engine, invoker }));
    baseUrl = await listen(server);
    const host = { engine, invoker };
    const setupMs = performance.now() - setupStart;

    let sequence = 0;
    const placeOne = async (label: string): Promise<OrderTiming> => {
      const index = sequence++;
      const orderId = `bench-${label}-${process.pid}-${index}`;
      const body = Buffer.from(JSON.stringify(orderRequest(orderId, `BENCH-${index % config.skus}`)));
      const timing: OrderTiming = { orderId, placedAt: performance.now() };
      const done = new Promise<void>((resolve) => waiting.set(orderId, { timing, resolve }));
      const response = await handleHostRequest(host, {
        method: 'POST',
        url: '/api/orders',
        headers: {
          'content-type': 'application/json',
          'content-length': String(body.length),
          host: new URL(baseUrl).host,
        },
        body,
        origin: baseUrl,
      });
      timing.acceptedAt = performance.now();
      if (response.status !== 202) {
        waiting.delete(orderId);
        timing.error = `POST /api/orders answered ${response.status}: ${response.body.toString('utf8').slice(0, 200)}`;
        return timing;
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          timing.error = `not final after ${config.orderTimeoutMs} ms (last status ${engine!.getStatus(orderId)?.runtimeStatus ?? 'unknown'})`;
          waiting.delete(orderId);
          resolve();
        }, config.orderTimeoutMs);
      });
      await Promise.race([done, timedOut]);
      clearTimeout(timer);
      return timing;
    };

    const runBatch = async (label: string, count: number): Promise<{ timings: OrderTiming[]; wallMs: number }> => {
      const timings: OrderTiming[] = [];
      let next = 0;
      const start = performance.now();
      const client = async () => {
        while (next < count && !stopped) {
          next += 1;
          timings.push(await placeOne(label));
        }
      };
      await Promise.all(Array.from({ length: Math.min(config.concurrency, count) }, client));
      return { timings, wallMs: performance.now() - start };
    };

    if (config.warmup > 0) {
      log(`warm-up: ${config.warmup} orders`);
      const warm = await runBatch('warmup', config.warmup);
      const bad = warm.timings.filter((timing) => timing.error || timing.finalStatus !== 'Completed');
      if (bad.length > 0)
        throw new Error(
          `warm-up: ${bad.length} orders did not complete, e.g. ${bad[0].orderId}: ${bad[0].error ?? bad[0].finalStatus}`,
        );
    }
    instruments.resetCounts();
    store.resetCounts();
    const cpuBefore = process.cpuUsage();
    const cosmosCpuBefore = processCpuMs(cosmos.pid);

    log(`measuring: ${config.orders} orders, ${config.concurrency} in flight, latency ${config.latency}`);
    const { timings, wallMs } = await runBatch('run', config.orders);
    const cpuUsed = process.cpuUsage(cpuBefore);
    const cosmosCpuAfter = processCpuMs(cosmos.pid);
    const storeTotals = { copyMs: store.copyMs, gets: store.gets, puts: store.puts };

    const failed = timings
      .filter((timing) => timing.error || timing.finalStatus !== 'Completed')
      .map((timing) => ({
        orderId: timing.orderId,
        reason: timing.error ?? `ended ${timing.runtimeStatus}/${timing.finalStatus}`,
      }));
    const completed = timings.filter((timing) => !timing.error && timing.finalStatus === 'Completed');
    const completedIds = new Set(completed.map((timing) => timing.orderId));

    const histories = completed.map(
      (timing) => engine!.getStatus(timing.orderId, { showHistory: true })?.history?.length ?? 0,
    );
    const episodeTotals = [...instruments.episodes]
      .filter(([instanceId]) => completedIds.has(instanceId))
      .map(([, totals]) => totals);
    const perOrder = (total: number) => (completed.length === 0 ? Number.NaN : total / completed.length);
    const byActivity = instruments.requestsByActivity();
    const executions = instruments.calls.filter((call) => completedIds.has(call.orderId));
    const executionsByName: Record<string, number> = {};
    for (const call of executions) executionsByName[call.activity] = (executionsByName[call.activity] ?? 0) + 1;

    return {
      analysis: analyzeOrders(
        completed,
        instruments.calls.filter((call) => completedIds.has(call.orderId)),
      ),
      wallMs,
      ordersPerSecond: completed.length / (wallMs / 1000),
      completed: completed.length,
      failed,
      historyEventsPerOrder: perOrder(histories.reduce((sum, count) => sum + count, 0)),
      episodesPerOrder: perOrder(episodeTotals.reduce((sum, totals) => sum + totals.episodes, 0)),
      replayCpuMsPerOrder: perOrder(episodeTotals.reduce((sum, totals) => sum + totals.cpuMs, 0)),
      replayWallMsPerOrder: perOrder(episodeTotals.reduce((sum, totals) => sum + totals.wallMs, 0)),
      // Over every measured order: failed ones made requests too.
      cosmosRequestsPerOrder: instruments.totalRequests() / timings.length,
      cosmosRequestsByActivityPerOrder: Object.fromEntries(
        Object.entries(byActivity).map(([name, count]) => [name, count / timings.length]),
      ),
      cosmosRequestsByKind: instruments.requestsByKind(),
      cosmosRequestsByContextPerOrder: Object.fromEntries(
        Object.entries(instruments.requestsByDatabase()).map(([name, count]) => [
          name,
          Number((count / timings.length).toFixed(2)),
        ]),
      ),
      activityExecutionsPerOrder: perOrder(executions.length),
      activityExecutionsByNamePerOrder: Object.fromEntries(
        Object.entries(executionsByName).map(([name, count]) => [name, perOrder(count)]),
      ),
      cosmosServerPid: cosmos.pid,
      store: {
        copyMsPerOrder: storeTotals.copyMs / timings.length,
        getsPerOrder: storeTotals.gets / timings.length,
        putsPerOrder: storeTotals.puts / timings.length,
      },
      benchProcessCpuMsPerOrder: (cpuUsed.user + cpuUsed.system) / 1000 / timings.length,
      cosmosServerCpuMsPerOrder:
        cosmosCpuBefore === null || cosmosCpuAfter === null
          ? null
          : (cosmosCpuAfter - cosmosCpuBefore) / timings.length,
      setupMs,
    };
  };

  return {
    result: run(),
    stop,
    dependencyPids: () => [cosmos?.pid, azurite?.pid].filter((pid): pid is number => pid !== undefined),
  };
}

/** Bench skus: cheap (no approval), plenty of stock, spread so orders rarely contend on one document. */
function benchCatalog(config: BenchConfig): SeedItem[] {
  const stock = config.orders + config.warmup + 100;
  return Array.from({ length: config.skus }, (_, index) => ({
    sku: `BENCH-${index}`,
    name: `Bench item ${index}`,
    prices: { EUR: 19.9, USD: 21.9, GBP: 17.9 },
    stock,
  }));
}

function orderRequest(orderId: string, sku: string) {
  return {
    orderId,
    customerId: 'bench',
    customerEmail: 'bench@example.com',
    currency: 'EUR',
    items: [{ sku, quantity: 1 }],
    payment: { token: 'tok_visa' },
    shippingAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
  };
}

/** User + system CPU ms of a process, from /proc (Linux); null where that cannot be read. */
function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at state; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every mainstream Linux
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}
