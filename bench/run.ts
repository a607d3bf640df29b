/**
 * `npm run bench`: the performance numbers of the order saga, printed as a table with each goal
 * and written to bench/results.json. A benchmark, not a test: it exits 0 when a goal is missed
 * (the table says FAIL), and 1 only when a phase could not run at all.
 *
 * Phases, one after the other so they never compete for the CPU:
 *   package  npm run build, then zip dist/                     → packageZipBytes
 *   cold     fresh processes load the bundle vs. unbundled app → coldLoadRatio
 *   host     the real offline host in a child process, per durable backend, driven over HTTP by
 *            polling clients → hostOrdersPerSecond, e2eOverFloor(Single), coldStartFirstRequestMs
 *   saga     the app in this process on the engine, instrumented: where the time and the Cosmos
 *            requests go → criticalPathCosmosRequests, history events, activity executions
 *   stock    reservations on a fresh sku vs. one that sold 100,000, and a hot sku → stockOpGrowth
 *
 * See docs/performance.md for what each number means.
 */
import './functions-core-hook'; // first: see that file
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { measureColdLoad, type ColdLoadResult } from './cold-load';
import { parseConfig, parseLatency, UsageError, type BenchConfig, type Phase } from './config';
import { buildAndZip, runCommand, type PackageResult } from './package-size';
import { breakdown, formatValue, metric, table, type Metric } from './report';
import { runHostPhase, type HostRunResult } from './host-run';
import { startSagaRun, type SagaRun, type SagaRunResult } from './saga-run';
import { runStockPhase, type StockRunResult } from './stock-run';
import { round } from './stats';

const ROOT = path.resolve(__dirname, '..');
const GOALS = {
  hostOrdersPerSecond: { op: '>=', target: 25 },
  e2eOverFloor: { op: '<=', target: 1.15 },
  e2eOverFloorSingle: { op: '<=', target: 1.1 },
  criticalPathCosmosRequests: { op: '<=', target: 10 },
  stockOpGrowth: { op: '<=', target: 1.2 },
  parallelOverSlowestBranch: { op: '<=', target: 1.05 },
  packageZipBytes: { op: '<=', target: 1_500_000 },
  coldLoadRatio: { op: '>=', target: 3 },
} as const;

const log = (line: string) => console.log(`[bench] ${line}`);

async function main(): Promise<number> {
  let config: BenchConfig;
  try {
    config = parseConfig(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message);
    return error.message.startsWith('usage:') ? 0 : 2;
  }

  const started = new Date();
  const loadAtStart = os.loadavg()[0];
  if (loadAtStart > os.cpus().length) {
    log(
      `WARNING: the machine is busy (load average ${loadAtStart.toFixed(1)} on ${os.cpus().length} CPUs): expect noisy numbers`,
    );
  }
  const startedAt = performance.now();
  const errors: Record<string, string> = {};
  let packageResult: PackageResult | undefined;
  let cold: ColdLoadResult | undefined;
  let saga: SagaRunResult | undefined;
  let sagaRun: SagaRun | undefined;
  const hosts: Partial<Record<string, HostRunResult>> = {};
  let stock: StockRunResult | undefined;

  // Whatever happens, the saga phase's Cosmos server and Azurite children go: on Ctrl-C, on a kill, on a crash.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping`);
    void (sagaRun?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => {
    for (const pid of sagaRun?.dependencyPids() ?? []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  if (config.phases.includes('package')) {
    try {
      packageResult = await buildAndZip(ROOT, log);
    } catch (error) {
      errors.package = message(error);
    }
  }
  if (config.phases.includes('cold')) {
    try {
      if (!config.phases.includes('package') && !existsSync(path.join(ROOT, 'dist', 'main.js'))) {
        log('npm run build (dist/main.js is missing)');
        await runCommand('npm', ['run', 'build', '--silent'], ROOT);
      }
      if (errors.package) throw new Error(`no bundle to load: ${errors.package.split('\n')[0]}`);
      cold = await measureColdLoad(ROOT, config.coldRuns, log);
    } catch (error) {
      errors.cold = message(error);
    }
  }
  if (config.phases.includes('host')) {
    for (const backend of config.backends) {
      try {
        if (!existsSync(path.join(ROOT, 'dist', 'main.js'))) {
          log('npm run build (dist/main.js is missing)');
          await runCommand('npm', ['run', 'build', '--silent'], ROOT);
        }
        // The .NET host, built here rather than inside the host's start (which has a time limit); skipped when up to date.
        if (backend === 'extension') await runCommand('npm', ['run', 'build:extension', '--silent'], ROOT);
        hosts[backend] = await runHostPhase(ROOT, config, backend, log);
      } catch (error) {
        errors[`host:${backend}`] = message(error);
      }
    }
  }
  if (config.phases.includes('saga')) {
    sagaRun = startSagaRun(config, log);
    try {
      saga = await sagaRun.result;
    } catch (error) {
      errors.saga = message(error);
    } finally {
      await sagaRun.stop();
    }
  }

  if (config.phases.includes('stock')) {
    try {
      stock = await runStockPhase(config, log);
    } catch (error) {
      errors.stock = message(error);
    }
  }

  const metrics = collectMetrics(config, saga, packageResult, cold, hosts, stock);
  const durationMs = performance.now() - startedAt;
  console.log('');
  console.log(table(metrics));
  console.log('');
  printHostDetails(hosts, stock);
  printDetails(saga, packageResult, cold);
  for (const [phase, text] of Object.entries(errors)) console.log(`\nERROR in phase ${phase}: ${text}`);

  // A goal without a value (its phase failed) is missed too.
  const failed = metrics.filter((m) => m.pass === false || (m.goal && m.pass === null)).map((m) => m.name);
  const results = {
    generatedAt: started.toISOString(),
    durationMs: round(durationMs, 0),
    config: { ...config, latencyMs: parseLatency(config.latency) },
    machine: { ...machineInfo(), loadAverageAtStart: round(loadAtStart, 2) },
    goals: { met: metrics.filter((m) => m.pass === true).map((m) => m.name), failed },
    metrics: Object.fromEntries(metrics.map(({ name, ...rest }) => [name, rest])),
    details: { host: hosts, stock, saga: saga && sagaDetails(saga), package: packageResult, coldLoad: cold },
    errors,
  };
  const out = path.resolve(ROOT, config.out);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, roundReplacer, 2)}\n`);
  console.log('');
  console.log(failed.length === 0 ? 'All goals met.' : `FAIL: ${failed.length} goal(s) missed: ${failed.join(', ')}`);
  console.log(`Results: ${path.relative(process.cwd(), out) || out} (${(durationMs / 1000).toFixed(1)} s)`);
  return Object.keys(errors).length > 0 ? 1 : 0;
}

function collectMetrics(
  config: BenchConfig,
  saga: SagaRunResult | undefined,
  pkg: PackageResult | undefined,
  cold: ColdLoadResult | undefined,
  hosts: Partial<Record<string, HostRunResult>>,
  stock: StockRunResult | undefined,
): Metric[] {
  const ran = (phase: Phase) => config.phases.includes(phase);
  const a = saga?.analysis;
  const metrics: Metric[] = [];
  if (ran('host')) {
    const [first] = config.backends;
    const host = hosts[first];
    metrics.push(
      metric(
        'hostOrdersPerSecond',
        host?.zeroLatency.ordersPerSecond,
        'orders/s',
        GOALS.hostOrdersPerSecond,
        `${first}: HTTP host + file store, zero latency, ${config.concurrency} in flight`,
      ),
      metric(
        'e2eOverFloor',
        host && host.defaultLatency.e2eMs.p50 / host.floorMs,
        'ratio',
        GOALS.e2eOverFloor,
        `p50 POST → GET shows final, / ${host?.floorMs ?? '?'} ms floor, ${config.concurrency} in flight`,
      ),
      metric(
        'e2eOverFloorSingle',
        host && host.single.e2eMs.p50 / host.floorMs,
        'ratio',
        GOALS.e2eOverFloorSingle,
        'the same, 1 in flight',
      ),
      metric(
        'hostP50Ms',
        host?.defaultLatency.e2eMs.p50,
        'ms',
        undefined,
        `default latencies, ${config.concurrency} in flight`,
      ),
      metric(
        'hostCpuMsPerOrder',
        host?.zeroLatency.hostCpuMsPerOrder,
        'ms',
        undefined,
        'host process CPU, zero latency, polls included',
      ),
      metric(
        'coldStartFirstRequestMs',
        host?.coldStartFirstRequestMs,
        'ms',
        undefined,
        'host process start → first order answered 202 (dependencies already up)',
      ),
      metric(
        'hostCpuMsPerStatusRead',
        host?.statusRead.cpuMsPerRead,
        'ms',
        undefined,
        'GET /api/orders/{id}, one after the other: function → durable client → management API',
      ),
    );
    for (const backend of config.backends.slice(1)) {
      const other = hosts[backend];
      metrics.push(
        metric(`${backend}.hostOrdersPerSecond`, other?.zeroLatency.ordersPerSecond, 'orders/s'),
        metric(`${backend}.e2eOverFloor`, other && other.defaultLatency.e2eMs.p50 / other.floorMs, 'ratio'),
        metric(`${backend}.e2eOverFloorSingle`, other && other.single.e2eMs.p50 / other.floorMs, 'ratio'),
        metric(`${backend}.hostCpuMsPerStatusRead`, other?.statusRead.cpuMsPerRead, 'ms'),
      );
    }
    const storage = hosts.extension?.storage;
    metrics.push(
      metric(
        'storageTransactionsPerOrder',
        storage?.defaultLatency.total,
        '',
        undefined,
        `extension backend, counted at Azurite: default latencies, ${config.concurrency} in flight, status polls included`,
      ),
      metric(
        'extension.storageTransactionsPerOrderSingle',
        storage?.single.total,
        '',
        undefined,
        'the same, 1 in flight (more idle polling per order)',
      ),
      metric(
        'extension.idleStorageTransactionsPerSecond',
        storage?.idleTransactionsPerSecond,
        '/s',
        undefined,
        'no order in flight (local polling tuning: 100 ms ceiling)',
      ),
      metric(
        'extension.historyEventsPerOrder',
        storage?.historyEventsPerOrder,
        '',
        undefined,
        'rows in the task hub History table',
      ),
      metric(
        'extension.activityExecutionsPerOrder',
        storage?.activityExecutionsPerOrder,
        '',
        undefined,
        'TaskScheduled rows',
      ),
    );
  }
  if (ran('saga')) {
    metrics.push(
      metric(
        'criticalPathCosmosRequests',
        saga && criticalPathCosmosRequests(saga),
        '',
        GOALS.criticalPathCosmosRequests,
        'validate + pay + slowest branch + ship + last write, per order',
      ),
      metric(
        'cosmosRequestsPerOrder',
        saga?.cosmosRequestsPerOrder,
        '',
        undefined,
        'all of them, the progress writes off the path included',
      ),
      metric('historyEventsPerOrder', saga?.historyEventsPerOrder, ''),
      metric('activityExecutionsPerOrder', saga?.activityExecutionsPerOrder, ''),
      metric(
        'inProcessOrdersPerSecond',
        saga?.ordersPerSecond,
        'orders/s',
        undefined,
        `engine in this process, memory store, ${config.concurrency} in flight`,
      ),
      metric(
        'inProcessE2eOverCriticalPath',
        a?.e2eOverCriticalPath.p50,
        'ratio',
        undefined,
        'no goal: measured activity times include queueing (see e2eOverFloor)',
      ),
      metric(
        'parallelOverSlowestBranch',
        a?.parallelOverSlowestBranch.p50,
        'ratio',
        GOALS.parallelOverSlowestBranch,
        'median; first branch start → next step scheduled',
      ),
      metric('replayCpuMsPerOrder', saga?.replayCpuMsPerOrder, 'ms'),
    );
  }
  if (ran('stock')) {
    metrics.push(
      metric(
        'stockOpGrowth',
        stock?.stockOpGrowth,
        'ratio',
        GOALS.stockOpGrowth,
        'reserve p50 on a sku that sold 100,000 / on a fresh sku',
      ),
      metric(
        'stockOpGrowthWithReleases',
        stock?.stockOpGrowthWithReleases,
        'ratio',
        undefined,
        'the same with 2,000 release tombstones in the document',
      ),
    );
  }
  if (ran('package'))
    metrics.push(
      metric('packageZipBytes', pkg?.zipBytes, 'bytes', GOALS.packageZipBytes, 'all of dist/, DEFLATE level 6'),
    );
  if (ran('cold'))
    metrics.push(
      metric(
        'coldLoadRatio',
        cold?.ratio,
        'ratio',
        GOALS.coldLoadRatio,
        'median unbundled / median bundle, process start → all registered',
      ),
    );
  return metrics;
}

function printDetails(
  saga: SagaRunResult | undefined,
  pkg: PackageResult | undefined,
  cold: ColdLoadResult | undefined,
): void {
  if (saga) {
    const a = saga.analysis;
    console.log(
      `saga: ${saga.completed} completed, ${saga.failed.length} failed, in ${(saga.wallMs / 1000).toFixed(1)} s`,
    );
    for (const failure of saga.failed.slice(0, 5)) console.log(`  FAILED ${failure.orderId}: ${failure.reason}`);
    console.log(`  e2e ms            mean ${a.e2eMs.mean}  p50 ${a.e2eMs.p50}  p95 ${a.e2eMs.p95}  max ${a.e2eMs.max}`);
    console.log(
      `  critical path ms  mean ${a.criticalPathMs.mean}  p50 ${a.criticalPathMs.p50}  (without progress writes: mean ${a.businessPathMs.mean})`,
    );
    console.log(
      `  e2e / critical path            p50 ${a.e2eOverCriticalPath.p50}  p95 ${a.e2eOverCriticalPath.p95}  of means ${a.e2eOverCriticalPath.ofMeans}`,
    );
    console.log(
      `  (202 → completed) / critical path p50 ${a.acceptedToFinishOverCriticalPath.p50}  p95 ${a.acceptedToFinishOverCriticalPath.p95}  (without placing the order)`,
    );
    console.log(
      `  e2e / business steps only      p50 ${a.e2eOverBusinessPath.p50}  p95 ${a.e2eOverBusinessPath.p95}  (validate + pay + slowest branch + ship)`,
    );
    console.log(
      `  parallel step / slowest branch p50 ${a.parallelOverSlowestBranch.p50}  p95 ${a.parallelOverSlowestBranch.p95}  (activities alone: p50 ${a.parallelActivitiesOverSlowestBranch.p50})`,
    );
    console.log(
      `  slowest branch: ${Object.entries(a.slowestBranchShare)
        .map(([name, share]) => `${name} ${Math.round(share * 100)}%`)
        .join(', ')}`,
    );
    console.log(
      `  accept (POST → 202) p50 ${a.acceptMs.p50} ms; GET shows Completed at p50 ${a.visibleFinalMs.p50} ms`,
    );
    const cosmosCpu =
      saga.cosmosServerCpuMsPerOrder === null ? 'n/a' : `${saga.cosmosServerCpuMsPerOrder.toFixed(1)} ms`;
    console.log(
      `  CPU per order: this process ${saga.benchProcessCpuMsPerOrder.toFixed(1)} ms, local Cosmos server ${cosmosCpu}`,
    );
    console.log(
      `  engine store: ${saga.store.getsPerOrder.toFixed(0)} gets + ${saga.store.putsPerOrder.toFixed(0)} puts per order (whole-record JSON copies), ${saga.store.copyMsPerOrder.toFixed(2)} ms`,
    );
    console.log(
      `  replay: ${saga.episodesPerOrder.toFixed(1)} episodes/order, ${saga.replayCpuMsPerOrder.toFixed(2)} ms CPU, ${saga.replayWallMsPerOrder.toFixed(2)} ms wall in the orchestrator handler`,
    );
    console.log(breakdown('  step means (activity handler time):', a.stepMeansMs));
    console.log(breakdown(`  engine time between steps (means; total overhead ${a.overheadMeanMs} ms):`, a.gapMeansMs));
    console.log(breakdown('  Cosmos requests per order, by activity:', saga.cosmosRequestsByActivityPerOrder, ''));
    console.log(
      breakdown('  Cosmos requests per order, by context (database):', saga.cosmosRequestsByContextPerOrder, ''),
    );
  }
  if (pkg) {
    console.log(
      `package: build ${(pkg.buildMs / 1000).toFixed(1)} s; zip ${formatValue(pkg.zipBytes, 'bytes')}, without source maps ${formatValue(pkg.zipBytesWithoutSourceMaps, 'bytes')}`,
    );
    console.log(
      `  dist/: ${Object.entries(pkg.files)
        .map(([name, size]) => `${name} ${(size / 1000).toFixed(0)} kB`)
        .join(', ')}`,
    );
  }
  if (cold) {
    console.log(
      `cold load (ms from process start until every function is registered; median of ${cold.bundled.runsMs.length}):`,
    );
    console.log(
      `  bundle    ${cold.bundled.medianMs.toFixed(0)} ms  (${cold.bundled.functions} functions, ${cold.bundled.modulesLoaded} modules loaded)`,
    );
    console.log(
      `  unbundled ${cold.unbundled.medianMs.toFixed(0)} ms  (${cold.unbundled.functions} functions, ${cold.unbundled.modulesLoaded} modules loaded)${cold.sameFunctions ? '' : '  WARNING: not the same functions'}`,
    );
    console.log(
      `  fastest runs: bundle ${cold.bundled.minMs.toFixed(0)} ms, unbundled ${cold.unbundled.minMs.toFixed(0)} ms, ratio ${cold.ratioOfFastest.toFixed(2)}`,
    );
    console.log(
      `  Node's own start-up, in both: ${cold.nodeBootMs.toFixed(0)} ms; app load alone (preload → registered): ratio ${cold.appLoadRatio.toFixed(2)}`,
    );
  }
}

/**
 * Cosmos requests a single order waits for: the sequential steps, the slowest parallel branch,
 * and the slower of the two that end it (the Completed write, the stock commit). The other
 * progress writes run beside the step they announce. The slowest branch is the one measured
 * slowest, order by order (each branch's requests weighted by its share of orders it was the
 * slowest in): the order waits for that branch, and the others' requests run inside its time.
 */
function criticalPathCosmosRequests(saga: SagaRunResult): number {
  const requests = (name: string) => saga.cosmosRequestsByActivityPerOrder[name] ?? 0;
  const writes = saga.activityExecutionsByNamePerOrder.recordOrderProgress ?? 1;
  const perWrite = requests('recordOrderProgress') / writes;
  const shares = Object.entries(saga.analysis.slowestBranchShare);
  const slowestBranch =
    shares.length > 0
      ? shares.reduce((sum, [branch, share]) => sum + share * requests(branch), 0)
      : Math.max(requests('reserveStock'), requests('sendConfirmation'), requests('recordOrderFact'));
  return round(
    requests('validateOrder') +
      requests('chargePayment') +
      slowestBranch +
      requests('createShipment') +
      Math.max(perWrite, requests('commitStock')),
    2,
  );
}

function printHostDetails(hosts: Partial<Record<string, HostRunResult>>, stock: StockRunResult | undefined): void {
  for (const host of Object.values(hosts)) {
    if (!host) continue;
    console.log(
      `host (${host.backend}): floor ${host.floorMs} ms; cold start ${host.coldStartFirstRequestMs.toFixed(0)} ms to the first 202 (ready after ${host.coldStartReadyMs.toFixed(0)} ms)`,
    );
    for (const [label, load] of [
      ['zero latency', host.zeroLatency],
      ['default latency', host.defaultLatency],
      ['1 in flight', host.single],
    ] as const) {
      const cpu = load.hostCpuMsPerOrder === null ? 'n/a' : `${load.hostCpuMsPerOrder.toFixed(1)} ms`;
      console.log(
        `  ${label.padEnd(16)} ${load.completed}/${load.orders} completed, ${load.ordersPerSecond.toFixed(1)} orders/s, e2e p50 ${load.e2eMs.p50} p95 ${load.e2eMs.p95} ms, accept p50 ${load.acceptMs.p50} ms, ${load.pollsPerOrder.toFixed(1)} polls/order, host CPU ${cpu}/order`,
      );
      console.log(
        `  ${''.padEnd(16)} step log gaps (p50): ${Object.entries(load.stepGapsMs)
          .map(([name, ms]) => `${name} ${ms} ms`)
          .join(', ')}`,
      );
      if (load.storagePerOrder) {
        const ops = Object.entries(load.storagePerOrder.byOperation)
          .map(([name, value]) => `${name} ${value}`)
          .join(', ');
        console.log(`  ${''.padEnd(16)} storage transactions/order ${load.storagePerOrder.total}: ${ops}`);
      }
      for (const failure of load.failed.slice(0, 3)) console.log(`    FAILED ${failure.orderId}: ${failure.reason}`);
    }
    if (host.storage) {
      const types = Object.entries(host.storage.historyEventsByType)
        .map(([type, value]) => `${type} ${value}`)
        .join(', ');
      console.log(
        `  task hub: idle ${host.storage.idleTransactionsPerSecond} transactions/s; History rows/order ${host.storage.historyEventsPerOrder} (${types}) over ${host.storage.historySample} orders`,
      );
    }
  }
  if (stock) {
    console.log(
      `stock: reserve p50 fresh ${stock.freshReserveMs.p50} ms, after 100,000 sold ${stock.soldReserveMs.p50} ms, with 2,000 tombstones ${stock.releasesReserveMs.p50} ms`,
    );
    console.log(
      `  document bytes: fresh ${stock.documentBytes.fresh}, after ${stock.realOrders} real orders ${stock.documentBytes.afterRealOrders} (${stock.bytesPerCompletedOrder.toFixed(3)} B/order), at 100,000 ${stock.documentBytes.after100k}, with tombstones ${stock.documentBytes.withReleases}`,
    );
    for (const hot of stock.hotSku)
      console.log(
        `  hot sku over ${hot.documents} document(s): ${hot.reservesPerSecond} reserves/s, ${hot.conflictsPerReserve} ETag conflicts per reserve, ${(hot.gaveUpShare * 100).toFixed(1)}% gave up after 20 attempts, p50 ${hot.p50Ms} ms`,
      );
  }
}

function sagaDetails(saga: SagaRunResult) {
  return { ...saga, failed: saga.failed.slice(0, 20), failedCount: saga.failed.length };
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    availableParallelism: os.availableParallelism(),
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    loadAverageAtEnd: os.loadavg().map((value) => round(value, 2)),
  };
}

/** Three decimals are plenty in the results file. */
function roundReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? round(value, 3) : value;
}

function message(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
