/**
 * `npm run bench:backends`: the same scenarios on both durable backends in one run — local/engine
 * and the real Durable extension — through the offline host's HTTP API, each host a separate
 * process on loopback with its own data folder (stopped by PID, its dependencies with it).
 *
 *   latency     N orders one after the other: POST /api/orders until GET shows Completed
 *   throughput  M orders at once: orders completed per second, from the first POST to the last
 *
 * Bounded: every order has a deadline, and the whole run stops after a few minutes at most.
 * Usage: npm run bench:backends [-- --sequential 10 --concurrent 50]
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = resolve(__dirname, '..');
const EVERYDAY = ['MOUSE-ERGO', 'KEYBOARD-MECH', 'HEADPHONES-NC', 'USB-C-DOCK', 'MONITOR-27-4K'];
const ORDER_DEADLINE_MS = 120_000;

interface Host {
  baseUrl: string;
  pid: number;
  dataDir: string;
  stop(): Promise<void>;
}

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1 || value > 200)
    throw new Error(`--${name} must be an integer from 1 to 200`);
  return value;
}

async function startHost(backend: string): Promise<Host> {
  const dataDir = mkdtempSync(join(tmpdir(), `bench-${backend}-`));
  const logFile = join(dataDir, 'host.log');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(COSMOS_|AzureWebJobsStorage|WEBSITE_HOSTNAME)/.test(name)),
  );
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/host/main.ts'], {
    cwd: ROOT,
    env: {
      ...env,
      PORT: '0',
      DATA_DIR: join(dataDir, 'data'),
      DURABLE_BACKEND: backend,
      DURABLE_FSYNC: '1',
      LOG_LEVEL: 'information',
    },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const started = performance.now();
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    const ready = /Host ready at (http:\/\/[\d.]+:\d+)/.exec(readFileSync(logFile, 'utf8'));
    if (ready) {
      console.log(`[bench] ${backend}: host ready in ${Math.round(performance.now() - started)} ms (pid ${child.pid})`);
      return {
        baseUrl: ready[1],
        pid: child.pid!,
        dataDir,
        async stop() {
          if (!exited) {
            child.kill('SIGTERM');
            await new Promise((done) => child.once('exit', done));
          }
          const stopper = spawn(process.execPath, ['--import', 'tsx', 'local/host/main.ts', '--stop-deps'], {
            cwd: ROOT,
            env: { ...env, DATA_DIR: join(dataDir, 'data') },
            stdio: 'ignore',
          });
          await new Promise((done) => stopper.once('exit', done));
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    }
    if (exited || performance.now() - started > 120_000)
      throw new Error(`the ${backend} host did not start:\n${readFileSync(logFile, 'utf8')}`);
    await sleep(100);
  }
}

let sequence = 0;
/** One order through the API: POST, then GET every 25 ms until it is final. Returns ms. */
async function placeAndWait(host: Host, label: string): Promise<number> {
  const orderId = `bench-${label}-${Date.now().toString(36)}-${(sequence += 1)}`;
  const body = {
    orderId,
    customerId: 'ada',
    customerEmail: 'ada@example.com',
    currency: 'EUR',
    items: [{ sku: EVERYDAY[sequence % EVERYDAY.length], quantity: 1 }],
    payment: { token: 'tok_visa' },
    shippingAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
  };
  const started = performance.now();
  const placed = await fetch(`${host.baseUrl}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await placed.arrayBuffer();
  if (placed.status !== 202) throw new Error(`POST answered ${placed.status}`);
  while (performance.now() - started < ORDER_DEADLINE_MS) {
    const response = await fetch(`${host.baseUrl}/api/orders/${orderId}`);
    const view =
      response.status === 200
        ? ((await response.json()) as { status: string })
        : (await response.arrayBuffer(), undefined);
    if (view?.status === 'Completed') return performance.now() - started;
    if (view && ['Rejected', 'Failed', 'Compensated', 'CompensationFailed'].includes(view.status))
      throw new Error(`${orderId} ended ${view.status}`);
    await sleep(25);
  }
  throw new Error(`${orderId} did not complete within ${ORDER_DEADLINE_MS} ms`);
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

async function measure(backend: string, sequential: number, concurrent: number) {
  const host = await startHost(backend);
  try {
    await placeAndWait(host, `${backend}-warmup`);
    const latencies: number[] = [];
    for (let index = 0; index < sequential; index += 1) latencies.push(await placeAndWait(host, `${backend}-seq`));
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrent }, () => placeAndWait(host, `${backend}-par`)));
    const seconds = (performance.now() - started) / 1000;
    return {
      backend,
      p50: Math.round(percentile(latencies, 50)),
      p95: Math.round(percentile(latencies, 95)),
      mean: Math.round(latencies.reduce((sum, value) => sum + value, 0) / latencies.length),
      throughput: Number((concurrent / seconds).toFixed(2)),
      concurrentSeconds: Number(seconds.toFixed(1)),
    };
  } finally {
    await host.stop();
  }
}

async function main(): Promise<void> {
  const sequential = argument('sequential', 10);
  const concurrent = argument('concurrent', 50);
  const rows = [];
  for (const backend of ['engine', 'extension']) rows.push(await measure(backend, sequential, concurrent));
  console.log(
    `\none happy-path order (tok_visa, 6 steps), ${sequential} one after the other; then ${concurrent} at once`,
  );
  console.log('backend     latency p50   p95     mean    throughput (orders/s)   concurrent run');
  for (const row of rows) {
    console.log(
      `${row.backend.padEnd(11)} ${`${row.p50} ms`.padEnd(13)} ${`${row.p95} ms`.padEnd(7)} ${`${row.mean} ms`.padEnd(7)} ${String(row.throughput).padEnd(23)} ${row.concurrentSeconds} s`,
    );
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
