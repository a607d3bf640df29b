/**
 * Measures the app from outside, without touching src/ or local/engine/:
 * - every activity handler in the registry is wrapped to time each call (per order and step);
 * - every orchestrator handler is wrapped to take the CPU and wall time of each replay episode;
 * - Cosmos DB requests are counted where they leave the process, on node's http client
 *   diagnostics channel, and attributed to the activity that made them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FunctionRegistry } from '../local/engine/registry';
import {
  MemoryInstanceStore,
  type InstanceRecord,
  type InstanceStore,
  type InstanceSummary,
} from '../local/engine/store';

/** The containers where the simulated providers keep their own records. */
const SIMULATED_PROVIDER_RECORDS = /\/colls\/(?:gatewayLedger|carrierBookings|mailerLog)(?:\/|$|\?)/;

export interface ActivityCall {
  activity: string;
  orderId: string;
  /** The order status a recordOrderProgress call writes (`Paying`, …); undefined for other activities. */
  status?: string;
  start: number;
  end: number;
  ok: boolean;
}

export interface EpisodeTotals {
  episodes: number;
  cpuMs: number;
  wallMs: number;
}

export class Instruments {
  readonly calls: ActivityCall[] = [];
  readonly episodes = new Map<string, EpisodeTotals>();
  private readonly scope = new AsyncLocalStorage<string>();
  private requestCounts = new Map<string, number>();
  private requestKinds = new Map<string, number>();
  private requestDatabases = new Map<string, number>();
  private cosmosHost: string | undefined;
  private subscribed = false;

  /** Replaces the registry's handlers with timed ones (before the Engine is created). */
  wrap(registry: FunctionRegistry): void {
    for (const [name, fn] of registry.activities) {
      const handler = fn.handler;
      registry.activities.set(name, {
        ...fn,
        handler: (input, context) =>
          this.scope.run(name, async () => {
            const start = performance.now();
            let ok = false;
            try {
              const result = await handler(input, context);
              ok = true;
              return result;
            } finally {
              this.calls.push({ activity: name, ...identify(input), start, end: performance.now(), ok });
            }
          }),
      });
    }
    for (const [name, fn] of registry.orchestrations) {
      const handler = fn.handler;
      registry.orchestrations.set(name, {
        ...fn,
        handler: async (triggerInput, context) => {
          const instanceId = String((triggerInput as { instanceId?: unknown })?.instanceId ?? 'unknown');
          const cpu = process.cpuUsage();
          const start = performance.now();
          try {
            return await handler(triggerInput, context);
          } finally {
            const used = process.cpuUsage(cpu);
            const totals = this.episodes.get(instanceId) ?? { episodes: 0, cpuMs: 0, wallMs: 0 };
            totals.episodes += 1;
            totals.cpuMs += (used.user + used.system) / 1000;
            totals.wallMs += performance.now() - start;
            this.episodes.set(instanceId, totals);
          }
        },
      });
    }
  }

  /** Counts every HTTP request to `endpoint` (the Cosmos server) from now on. */
  countRequestsTo(endpoint: string): void {
    this.cosmosHost = new URL(endpoint).host;
    if (this.subscribed) return;
    this.subscribed = true;
    diagnosticsChannel.subscribe('http.client.request.start', (message) =>
      this.onRequest((message as { request: ClientRequest }).request),
    );
  }

  /** Starts the counts from zero (after the warm-up). */
  resetCounts(): void {
    this.requestCounts = new Map();
    this.requestKinds = new Map();
    this.requestDatabases = new Map();
    this.calls.length = 0;
    this.episodes.clear();
  }

  /** Requests by the activity that made them (`(outside activities)` for the rest). */
  requestsByActivity(): Record<string, number> {
    return Object.fromEntries([...this.requestCounts].sort((a, b) => b[1] - a[1]));
  }

  /** Requests by method and resource kind, e.g. `GET docs`, `POST docs (query)`. */
  requestsByKind(): Record<string, number> {
    return Object.fromEntries([...this.requestKinds].sort((a, b) => b[1] - a[1]));
  }

  /** Requests by database: each bounded context owns one (`/dbs/<name>/...`). */
  requestsByDatabase(): Record<string, number> {
    return Object.fromEntries([...this.requestDatabases].sort((a, b) => b[1] - a[1]));
  }

  totalRequests(): number {
    let total = 0;
    for (const count of this.requestCounts.values()) total += count;
    return total;
  }

  private onRequest(request: ClientRequest): void {
    if (!this.cosmosHost || String(request.getHeader('host') ?? request.host) !== this.cosmosHost) return;
    // The simulated gateway, carrier and mailer keep their records in Cosmos; in Azure that is the
    // provider's API (its time is the provider's latency), not a request of ours: counted apart.
    const provider = SIMULATED_PROVIDER_RECORDS.test(request.path) ? ' (simulated provider)' : '';
    const activity = `${this.scope.getStore() ?? '(outside activities)'}${provider}`;
    this.requestCounts.set(activity, (this.requestCounts.get(activity) ?? 0) + 1);
    const kind = `${request.method} ${resourceKind(request.path)}${request.getHeader('x-ms-documentdb-isquery') ? ' (query)' : ''}`;
    this.requestKinds.set(kind, (this.requestKinds.get(kind) ?? 0) + 1);
    const database = `${/\/dbs\/([^/?]+)/.exec(request.path)?.[1] ?? '(account)'}${provider}`;
    this.requestDatabases.set(database, (this.requestDatabases.get(database) ?? 0) + 1);
  }
}

/** Every activity of the saga carries the order id: in `orderId`, or (validateOrder) in the order itself. */
function identify(input: unknown): { orderId: string; status?: string } {
  const value = (input ?? {}) as { orderId?: unknown; view?: { status?: unknown } };
  const status = typeof value.view?.status === 'string' ? value.view.status : undefined;
  return { orderId: typeof value.orderId === 'string' ? value.orderId : '(unknown)', ...(status ? { status } : {}) };
}

/** `/dbs/orders/colls/orders/docs/x` → `docs`; `/dbs/orders/colls/orders/pkranges` → `pkranges`. */
function resourceKind(path: string): string {
  const segments = path.split('?')[0].split('/').filter(Boolean);
  const kinds = ['docs', 'pkranges', 'colls', 'dbs', 'offers', 'users'];
  for (let index = segments.length - 1; index >= 0; index -= 1) {
    if (kinds.includes(segments[index])) return segments[index];
  }
  return segments.length === 0 ? '(account)' : segments[0];
}

/**
 * The engine's default in-memory store, observed: every put shows the bench the record as the
 * engine wrote it (so waiting for an order costs no extra copy of its record), and the time the
 * store spends copying records (it keeps JSON text, as a durable store would) is added up.
 */
export class ObservedStore implements InstanceStore {
  private readonly inner = new MemoryInstanceStore();
  /** ms spent in get/put/list (JSON serialization of whole records, history included). */
  copyMs = 0;
  gets = 0;
  puts = 0;

  constructor(private readonly onPut: (record: InstanceRecord) => void) {}

  get(instanceId: string): InstanceRecord | undefined {
    const start = performance.now();
    try {
      return this.inner.get(instanceId);
    } finally {
      this.gets += 1;
      this.copyMs += performance.now() - start;
    }
  }

  put(record: InstanceRecord): void {
    const start = performance.now();
    this.inner.put(record);
    this.puts += 1;
    this.copyMs += performance.now() - start;
    this.onPut(record);
  }

  delete(instanceId: string): boolean {
    return this.inner.delete(instanceId);
  }

  list(where?: (summary: InstanceSummary) => boolean): InstanceRecord[] {
    return this.inner.list(where);
  }

  resetCounts(): void {
    this.copyMs = 0;
    this.gets = 0;
    this.puts = 0;
  }
}
