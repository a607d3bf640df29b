/**
 * The bench's settings: flags win over environment variables, which win over the defaults.
 *
 *   npm run bench -- --orders 400 --concurrency 20 --latency gateway=300,carrier=500
 */
export type Phase = 'saga' | 'package' | 'cold' | 'host' | 'stock';
export const ALL_PHASES: readonly Phase[] = ['package', 'cold', 'host', 'saga', 'stock'];
export type BackendName = 'engine' | 'extension';
const ALL_BACKENDS: readonly BackendName[] = ['engine', 'extension'];

export interface BenchConfig {
  /** Measured orders (the happy path, end to end). */
  orders: number;
  /** Orders in flight at once: each of this many clients places its next order when its last one is final. */
  concurrency: number;
  /** Orders run first and left out of the numbers (JIT, connections, Cosmos caches). */
  warmup: number;
  /** Provider latencies, as SIMULATED_LATENCY_MS reads them (`gateway=120,carrier=200,...`). */
  latency: string;
  /** Distinct skus the orders spread over; fewer means more ETag contention on stock documents. */
  skus: number;
  /** Fresh processes per variant for the cold load measurement. */
  coldRuns: number;
  /** Give up on an order (and count it as failed) after this long. */
  orderTimeoutMs: number;
  phases: Phase[];
  /** Durable backends the host phase runs, the first one's numbers are the goals'. */
  backends: BackendName[];
  /** How often the host phase's clients poll an order (fixed, so latency is measured, not the Retry-After). */
  pollMs: number;
  /** Completed orders the stock phase runs for real on one sku before it measures again. */
  stockOrders: number;
  /** Where the results go. */
  out: string;
}

export const DEFAULT_LATENCY = 'gateway=120,carrier=200,mailer=80,analytics=30';

const DEFAULTS: BenchConfig = {
  orders: 200,
  concurrency: 10,
  warmup: 20,
  latency: DEFAULT_LATENCY,
  skus: 0, // 0: twice the concurrency, so two orders rarely race for one stock document
  coldRuns: 11,
  orderTimeoutMs: 30_000,
  phases: [...ALL_PHASES],
  backends: ['engine', 'extension'],
  pollMs: 50,
  stockOrders: 1000,
  out: 'bench/results.json',
};

const FLAGS: Record<string, { env: string; key: keyof BenchConfig; help: string }> = {
  orders: { env: 'BENCH_ORDERS', key: 'orders', help: `measured orders (default ${DEFAULTS.orders})` },
  concurrency: {
    env: 'BENCH_CONCURRENCY',
    key: 'concurrency',
    help: `orders in flight at once (default ${DEFAULTS.concurrency})`,
  },
  warmup: { env: 'BENCH_WARMUP', key: 'warmup', help: `unmeasured warm-up orders (default ${DEFAULTS.warmup})` },
  latency: {
    env: 'SIMULATED_LATENCY_MS',
    key: 'latency',
    help: `provider latencies in ms (default "${DEFAULT_LATENCY}")`,
  },
  skus: { env: 'BENCH_SKUS', key: 'skus', help: 'distinct skus the orders use (default 2 × concurrency)' },
  'cold-runs': {
    env: 'BENCH_COLD_RUNS',
    key: 'coldRuns',
    help: `fresh processes per variant for the cold load (default ${DEFAULTS.coldRuns})`,
  },
  'order-timeout-ms': {
    env: 'BENCH_ORDER_TIMEOUT_MS',
    key: 'orderTimeoutMs',
    help: `per-order time limit (default ${DEFAULTS.orderTimeoutMs})`,
  },
  phases: {
    env: 'BENCH_PHASES',
    key: 'phases',
    help: `comma-separated subset of ${ALL_PHASES.join(',')} (default all)`,
  },
  backends: {
    env: 'BENCH_BACKENDS',
    key: 'backends',
    help: `durable backends for the host phase, of ${ALL_BACKENDS.join(',')} (default engine,extension: the first one's numbers meet the goals)`,
  },
  'poll-ms': {
    env: 'BENCH_POLL_MS',
    key: 'pollMs',
    help: `host phase: the clients' poll interval (default ${DEFAULTS.pollMs})`,
  },
  'stock-orders': {
    env: 'BENCH_STOCK_ORDERS',
    key: 'stockOrders',
    help: `stock phase: orders run for real on one sku (default ${DEFAULTS.stockOrders})`,
  },
  out: { env: 'BENCH_OUT', key: 'out', help: `results file (default ${DEFAULTS.out})` },
};

export function usage(): string {
  const lines = Object.entries(FLAGS).map(
    ([flag, { env, help }]) => `  --${flag.padEnd(18)} ${env.padEnd(24)} ${help}`,
  );
  return ['usage: npm run bench -- [flags]   (or the environment variables)', ...lines, '  --help'].join('\n');
}

export class UsageError extends Error {}

export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const raw = new Map<keyof BenchConfig, string>();
  for (const { env: name, key } of Object.values(FLAGS)) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') raw.set(key, value.trim());
  }
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (arg === '--help' || arg === '-h') throw new UsageError(usage());
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const flag = match && FLAGS[match[1]];
    if (!match || !flag) throw new UsageError(`unknown argument "${arg}"\n${usage()}`);
    const value = match[2] ?? argv[(index += 1)];
    if (value === undefined) throw new UsageError(`--${match[1]} needs a value`);
    raw.set(flag.key, value);
  }

  const config: BenchConfig = { ...DEFAULTS, phases: [...DEFAULTS.phases], backends: [...DEFAULTS.backends] };
  for (const [key, value] of raw) {
    switch (key) {
      case 'latency':
      case 'out':
        config[key] = value;
        break;
      case 'phases': {
        const phases = value
          .split(',')
          .map((phase) => phase.trim())
          .filter(Boolean);
        const unknown = phases.filter((phase) => !ALL_PHASES.includes(phase as Phase));
        if (unknown.length > 0 || phases.length === 0)
          throw new UsageError(`--phases: expected some of ${ALL_PHASES.join(',')}, got "${value}"`);
        config.phases = ALL_PHASES.filter((phase) => phases.includes(phase));
        break;
      }
      case 'backends': {
        const backends = value
          .split(',')
          .map((backend) => backend.trim())
          .filter(Boolean);
        if (backends.length === 0 || backends.some((backend) => !ALL_BACKENDS.includes(backend as BackendName))) {
          throw new UsageError(`--backends: expected some of ${ALL_BACKENDS.join(',')}, got "${value}"`);
        }
        config.backends = backends as BackendName[];
        break;
      }
      default: {
        const number = Number(value);
        const minimum = key === 'warmup' || key === 'skus' ? 0 : 1;
        if (!Number.isInteger(number) || number < minimum)
          throw new UsageError(`${key}: expected an integer ≥ ${minimum}, got "${value}"`);
        config[key] = number;
      }
    }
  }
  if (config.skus === 0) config.skus = Math.max(2 * config.concurrency, 1);
  parseLatency(config.latency); // fail early on a typo
  return config;
}

/** `gateway=120,carrier=200` → { gateway: 120, carrier: 200 } (the format src/libs/config.ts reads). */
export function parseLatency(text: string): Record<string, number> {
  const entries = text
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const [name, ms] = pair.split('=').map((part) => part.trim());
      const value = Number(ms);
      if (!name || ms === undefined || !Number.isFinite(value) || value < 0)
        throw new UsageError(`latency: expected name=ms pairs, got "${pair}"`);
      return [name, value] as const;
    });
  return Object.fromEntries(entries);
}
