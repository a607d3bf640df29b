/**
 * The host phase: what a user of the running app pays. The real offline host (`npm start`'s
 * process: the built bundle, the file store with fsync, host.json's concurrency limits, embedded
 * Cosmos and Azurite) in a child process; orders go in by HTTP POST and are "done" when a
 * polling client's GET /api/orders/{id} first shows them final. Nothing runs in the bench's
 * own process but the clients.
 *
 * Per backend:
 *   1. start the host with zero simulated latency; warm up; N orders, 10 in flight → orders/s
 *   2. restart it (dependencies kept) with the default latencies: process start → first order
 *      answered 202 is the cold start; then N orders at 10 in flight and a few at 1 in flight,
 *      each p50 over the configured floor (the latencies the critical path cannot avoid).
 * Everything the host started is stopped by PID at the end, whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { stopDependencies } from '../local/host/dependencies';
import { stopProcess } from '../local/dependencies/cosmos-server';
import type { SeedItem } from '../local/dependencies/seed-data';
import { resetCosmosClients } from '../src/libs/cosmos';
import type { OrderView } from '../src/services/orders/order-view';
import { parseLatency, type BackendName, type BenchConfig } from './config';
import { median, summarize, type Summary } from './stats';
import {
  azuriteLogFile,
  countSince,
  countStorageRequests,
  logOffset,
  perOrder,
  storedHistory,
  type StorageCount,
} from './storage-count';

export type Backend = BackendName;

interface BackendSpec {
  args: string[];
  env: Record<string, string>;
  /** The task hub's name, where the backend keeps one in Azure Storage (Azurite): its transactions are counted. */
  taskHub?: string;
}

/**
 * How to start each backend's host: the same `npm start` process, DURABLE_BACKEND chooses the
 * engine (local/engine) or the real Durable extension (its .NET host, built on first use by
 * `npm run build:extension`, against the embedded Azurite). For the extension, Azurite logs every
 * request (AZURITE_ACCESS_LOG) so that its storage transactions can be counted per order.
 */
const BACKENDS: Record<Backend, BackendSpec> = {
  engine: { args: ['--import', 'tsx', 'local/host/main.ts'], env: { DURABLE_BACKEND: 'engine' } },
  extension: {
    args: ['--import', 'tsx', 'local/host/main.ts'],
    env: { DURABLE_BACKEND: 'extension', AZURITE_ACCESS_LOG: '1', TASK_HUB_NAME: 'BenchHub' },
    taskHub: 'BenchHub',
  },
};

/** Azure Storage work per order on a backend that keeps its task hub there (the extension's Azure Storage provider). */
export interface StorageCost {
  /** Transactions per order at default latencies and `concurrency` in flight: status polls, idle polling and leases included. */
  defaultLatency: StorageCount;
  zeroLatency: StorageCount;
  single: StorageCount;
  /** What the task hub costs with no order in flight (queue polling, lease renewals), per second. */
  idleTransactionsPerSecond: number;
  idleSeconds: number;
  /** Rows per order in the task hub's History table (a sample of completed orders), by event type. */
  historyEventsPerOrder: number;
  historyEventsByType: Record<string, number>;
  /** TaskScheduled rows per order: activity executions (retries would add TaskScheduled rows). */
  activityExecutionsPerOrder: number;
  historySample: number;
}

export interface LoadResult {
  concurrency: number;
  orders: number;
  completed: number;
  failed: { orderId: string; reason: string }[];
  wallMs: number;
  ordersPerSecond: number;
  /** POST sent → the first GET that shows the order final. */
  e2eMs: Summary;
  acceptMs: Summary;
  pollsPerOrder: number;
  /** Host process CPU (user + system) per order, from /proc; null where unreadable. */
  hostCpuMsPerOrder: number | null;
  /** Medians of the step log's gaps (orchestration time): what the steps took as the saga saw them. */
  stepGapsMs: Record<string, number>;
  /** Storage requests during the run, per order (only where the backend keeps a task hub in Azurite). */
  storagePerOrder?: StorageCount;
  /** A few completed orders' ids. */
  completedSample: string[];
}

export interface HostRunResult {
  backend: Backend;
  floorMs: number;
  zeroLatency: LoadResult;
  defaultLatency: LoadResult;
  single: LoadResult;
  coldStartFirstRequestMs: number;
  coldStartReadyMs: number;
  /** GET /api/orders/{id} of a completed order, one after the other: the host's CPU and the wall time per read. */
  statusRead: { reads: number; cpuMsPerRead: number | null; wallMsPerRead: number };
  storage?: StorageCost;
}

const ZERO_LATENCY = 'gateway=0,carrier=0,mailer=0,analytics=0';

/** The critical path's configured latencies: pay, the slowest parallel branch, ship (validate and stock have none). */
export function floorMs(latency: string): number {
  const ms = parseLatency(latency);
  return (ms.gateway ?? 0) + Math.max(ms.mailer ?? 0, ms.analytics ?? 0) + (ms.carrier ?? 0);
}

export async function runHostPhase(
  root: string,
  config: BenchConfig,
  backend: Backend,
  log: (line: string) => void,
): Promise<HostRunResult> {
  const spec = BACKENDS[backend];
  const dataDir = mkdtempSync(path.join(tmpdir(), `bench-host-${backend}-`));
  let host: RunningHostProcess | undefined;
  try {
    host = await startHostProcess(root, spec, dataDir, ZERO_LATENCY);
    log(`${backend}: host pid ${host.child.pid} at ${host.baseUrl} (zero latency)`);
    await seedBenchStock(dataDir, config);
    await runLoad(host, config, 'warmup', config.warmup, config.concurrency, config.orderTimeoutMs);
    const idle = spec.taskHub ? await measureIdle(dataDir, IDLE_SAMPLE_MS) : undefined;
    const zeroLatency = await runLoad(host, config, 'zero', config.orders, config.concurrency, config.orderTimeoutMs);
    log(`${backend}: zero latency ${zeroLatency.ordersPerSecond.toFixed(1)} orders/s, p50 ${zeroLatency.e2eMs.p50} ms`);
    await host.stop();

    // The cold start: the dependencies stay up (as between two `npm start`s), the host and app start afresh.
    const spawnedAt = performance.now();
    host = await startHostProcess(root, spec, dataDir, config.latency);
    const coldStartReadyMs = performance.now() - spawnedAt;
    const first = await placeOrder(host, 'cold', 0, config);
    if (first.status !== 202) throw new Error(`the first order after a cold start answered ${first.status}`);
    const coldStartFirstRequestMs = performance.now() - spawnedAt;
    log(
      `${backend}: cold start ${coldStartFirstRequestMs.toFixed(0)} ms to the first 202 (host ready after ${coldStartReadyMs.toFixed(0)} ms)`,
    );

    await runLoad(host, config, 'warmup2', Math.min(config.warmup, 10), config.concurrency, config.orderTimeoutMs);
    const defaultLatency = await runLoad(
      host,
      config,
      'default',
      config.orders,
      config.concurrency,
      config.orderTimeoutMs,
    );
    const single = await runLoad(
      host,
      config,
      'single',
      Math.max(10, Math.round(config.orders / 10)),
      1,
      config.orderTimeoutMs,
    );
    const statusRead = await measureStatusReads(host, single.completedSample[0], STATUS_READS);
    log(
      `${backend}: a status GET costs the host ${statusRead.cpuMsPerRead?.toFixed(2) ?? 'n/a'} ms CPU, ${statusRead.wallMsPerRead.toFixed(2)} ms wall (${STATUS_READS} one after the other)`,
    );
    const storage =
      spec.taskHub && idle
        ? await storageCost(dataDir, spec.taskHub, idle, zeroLatency, defaultLatency, single)
        : undefined;
    return {
      backend,
      floorMs: floorMs(config.latency),
      zeroLatency,
      defaultLatency,
      single,
      coldStartFirstRequestMs,
      coldStartReadyMs,
      statusRead,
      ...(storage ? { storage } : {}),
    };
  } finally {
    await host?.stop();
    await stopDependencies(dataDir).catch(() => []);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const IDLE_SAMPLE_MS = 5_000;
const STATUS_READS = 300;

/** What one status read costs the host: the function, the durable client, the management API. */
async function measureStatusReads(
  host: RunningHostProcess,
  orderId: string | undefined,
  reads: number,
): Promise<HostRunResult['statusRead']> {
  if (!orderId) return { reads: 0, cpuMsPerRead: null, wallMsPerRead: NaN };
  const read = async () => {
    const response = await fetch(`${host.baseUrl}/api/orders/${orderId}`, { headers: { accept: 'application/json' } });
    if (response.status !== 200) throw new Error(`status GET answered ${response.status}`);
    await response.arrayBuffer();
  };
  for (let index = 0; index < 20; index += 1) await read();
  const cpuBefore = processCpuMs(host.child.pid!);
  const start = performance.now();
  for (let index = 0; index < reads; index += 1) await read();
  const wallMs = performance.now() - start;
  const cpuAfter = processCpuMs(host.child.pid!);
  return {
    reads,
    cpuMsPerRead: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / reads,
    wallMsPerRead: wallMs / reads,
  };
}

async function measureIdle(dataDir: string, ms: number): Promise<{ perSecond: number; seconds: number }> {
  const file = azuriteLogFile(dataDir);
  const offset = logOffset(file);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { perSecond: countSince(file, offset).total / (ms / 1000), seconds: ms / 1000 };
}

async function storageCost(
  dataDir: string,
  hub: string,
  idle: { perSecond: number; seconds: number },
  zero: LoadResult,
  normal: LoadResult,
  single: LoadResult,
): Promise<StorageCost> {
  const sample = normal.completedSample;
  const byType: Record<string, number> = {};
  for (const instanceId of sample)
    for (const type of await storedHistory(dataDir, hub, instanceId)) byType[type] = (byType[type] ?? 0) + 1;
  const perOrderOf = (value: number) => Number((value / Math.max(1, sample.length)).toFixed(2));
  const total = Object.values(byType).reduce((sum, value) => sum + value, 0);
  const empty = perOrder(countStorageRequests(''), 1);
  return {
    defaultLatency: normal.storagePerOrder ?? empty,
    zeroLatency: zero.storagePerOrder ?? empty,
    single: single.storagePerOrder ?? empty,
    idleTransactionsPerSecond: Number(idle.perSecond.toFixed(1)),
    idleSeconds: idle.seconds,
    historyEventsPerOrder: perOrderOf(total),
    historyEventsByType: Object.fromEntries(
      Object.entries(byType)
        .sort((a, b) => b[1] - a[1])
        .map(([type, count]) => [type, perOrderOf(count)]),
    ),
    activityExecutionsPerOrder: perOrderOf(byType.TaskScheduled ?? 0),
    historySample: sample.length,
  };
}

interface RunningHostProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Azurite's access log, where the backend's task hub is counted. */
  storageLog?: string;
  stop(): Promise<void>;
}

async function startHostProcess(
  root: string,
  spec: BackendSpec,
  dataDir: string,
  latency: string,
): Promise<RunningHostProcess> {
  // The host's own embedded dependencies, whatever this shell points at.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...spec.env,
    PORT: '0',
    DATA_DIR: dataDir,
    SIMULATED_LATENCY_MS: latency,
    LOG_LEVEL: 'info',
  };
  for (const name of Object.keys(env))
    if (name.startsWith('COSMOS_') || name.startsWith('AzureWebJobsStorage')) delete env[name];
  const child = spawn(process.execPath, spec.args, {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`the host did not start in 60 s:\n${output.slice(-2000)}`)), 60_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('exit', (code) => fail(new Error(`the host exited with ${code}:\n${output.slice(-2000)}`)));
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
      const ready = /Host ready at (http:\/\/[\d.]+:\d+)/.exec(output);
      if (ready) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(ready[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
  let stopped = false;
  return {
    child,
    baseUrl,
    ...(spec.taskHub ? { storageLog: azuriteLogFile(dataDir) } : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopProcess(child.pid!, 15_000);
    },
  };
}

/** Bench skus in the host's embedded Cosmos server, plenty of stock, spread so orders rarely contend. */
async function seedBenchStock(dataDir: string, config: BenchConfig): Promise<void> {
  const state = JSON.parse(readFileSync(path.join(dataDir, 'dependencies.json'), 'utf8')) as {
    cosmos: { endpoint: string };
  };
  const previous = process.env.COSMOS_ENDPOINT;
  process.env.COSMOS_ENDPOINT = state.cosmos.endpoint;
  resetCosmosClients();
  try {
    const { seedDemoCatalog } = await import('../local/dependencies/provision');
    const items: SeedItem[] = Array.from({ length: config.skus }, (_, index) => ({
      sku: `BENCH-${index}`,
      name: `Bench item ${index}`,
      prices: { EUR: 19.9, USD: 21.9, GBP: 17.9 },
      stock: 10 * (config.orders + config.warmup) + 100,
    }));
    await seedDemoCatalog(items);
  } finally {
    process.env.COSMOS_ENDPOINT = previous;
    resetCosmosClients();
  }
}

let sequence = 0;

function placeOrder(
  host: RunningHostProcess,
  label: string,
  index: number,
  config: BenchConfig,
): Promise<{ orderId: string; status: number; text: string }> {
  const orderId = `bench-${label}-${process.pid}-${sequence++}`;
  const body = {
    orderId,
    customerId: 'bench',
    customerEmail: 'bench@example.com',
    currency: 'EUR',
    items: [{ sku: `BENCH-${index % config.skus}`, quantity: 1 }],
    payment: { token: 'tok_visa' },
    shippingAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
  };
  return fetch(`${host.baseUrl}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then(async (response) => ({
    orderId,
    status: response.status,
    text: await response.text(),
  }));
}

const FINAL = new Set(['Completed', 'Rejected', 'Failed', 'Compensated', 'CompensationFailed']);

async function runLoad(
  host: RunningHostProcess,
  config: BenchConfig,
  label: string,
  count: number,
  concurrency: number,
  timeoutMs: number,
): Promise<LoadResult> {
  const e2e: number[] = [];
  const accept: number[] = [];
  const failed: { orderId: string; reason: string }[] = [];
  const views: OrderView[] = [];
  let polls = 0;
  let next = 0;
  const cpuBefore = processCpuMs(host.child.pid!);
  const storageBefore = host.storageLog ? logOffset(host.storageLog) : 0;
  const start = performance.now();
  const client = async () => {
    while (next < count) {
      const index = next++;
      const placedAt = performance.now();
      const placed = await placeOrder(host, label, index, config);
      accept.push(performance.now() - placedAt);
      if (placed.status !== 202) {
        failed.push({
          orderId: placed.orderId,
          reason: `POST answered ${placed.status}: ${placed.text.slice(0, 200)}`,
        });
        continue;
      }
      // A fixed, short interval so that the latency is measured rather than the Retry-After
      // (1 s): the polls' cost lands on the host, as a real client's would. The first poll comes
      // at a random point of the first interval: orders of nearly the same duration polled on one
      // grid from the POST would all be seen on the same tick, early or late by up to an
      // interval depending on incidental timings (how fast the POST and each GET answer); a
      // random phase makes the lag average half an interval, as for clients in general.
      let wait = Math.random() * config.pollMs;
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        wait = config.pollMs;
        polls += 1;
        const response = await fetch(`${host.baseUrl}/api/orders/${placed.orderId}`, {
          headers: { accept: 'application/json' },
        });
        const view = (await response.json()) as OrderView;
        if (FINAL.has(view.status)) {
          if (view.status === 'Completed') {
            e2e.push(performance.now() - placedAt);
            views.push(view);
          } else failed.push({ orderId: placed.orderId, reason: `ended ${view.status}: ${view.reason ?? ''}` });
          break;
        }
        if (performance.now() - placedAt > timeoutMs) {
          failed.push({ orderId: placed.orderId, reason: `still ${view.status} after ${timeoutMs} ms` });
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, client));
  const wallMs = performance.now() - start;
  const cpuAfter = processCpuMs(host.child.pid!);
  const storage = host.storageLog ? countSince(host.storageLog, storageBefore) : undefined;
  return {
    concurrency,
    orders: count,
    completed: e2e.length,
    failed: failed.slice(0, 20),
    wallMs,
    ordersPerSecond: e2e.length / (wallMs / 1000),
    e2eMs: summarize(e2e),
    acceptMs: summarize(accept),
    pollsPerOrder: polls / Math.max(1, count),
    hostCpuMsPerOrder: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / Math.max(1, count),
    stepGapsMs: stepGaps(views),
    ...(storage ? { storagePerOrder: perOrder(storage, count) } : {}),
    completedSample: views.slice(0, 5).map((view) => view.orderId),
  };
}

/** From each final view's step log: validate → pay, pay → the last parallel branch, that → ship. */
function stepGaps(views: OrderView[]): Record<string, number> {
  const gaps: Record<string, number[]> = { pay: [], parallel: [], ship: [] };
  for (const view of views) {
    const at = (name: string) => Date.parse(view.steps.find((step) => step.name === name)?.at ?? '');
    const branches = Math.max(at('reserve'), at('confirm'), at('analytics'));
    gaps.pay.push(at('pay') - at('validate'));
    gaps.parallel.push(branches - at('pay'));
    gaps.ship.push(at('ship') - branches);
  }
  return Object.fromEntries(
    Object.entries(gaps).map(([name, values]) => [name, median(values.filter(Number.isFinite))]),
  );
}

/** User + system CPU ms of a process, from /proc (Linux); null where that cannot be read. */
function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null; // USER_HZ is 100 on every mainstream Linux
  } catch {
    return null;
  }
}
