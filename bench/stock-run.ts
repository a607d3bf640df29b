/**
 * The stock phase: does a sku's reservation get slower as it sells? And what does a hot sku's
 * single document cost under contention? Against a local Cosmos server started (and stopped, by
 * PID) here, through the inventory context's own activities.
 *
 *   fresh      reserve p50 on a new sku (each order reserved, then committed, one at a time)
 *   sold       the same after `stockOrders` real completed orders on one sku, then the count
 *              those leave (a number) moved on to 100,000: the document's growth per completed
 *              order is measured, not assumed, and reported beside it
 *   releases   the same again with the tombstones of 2% of 100,000 orders compensated within
 *              the tombstone retention (the worst realistic load on one document)
 *   hot sku    `concurrency` reservers on one document vs. the same spread over 4 and 8
 *              documents (the bucket design in docs/performance.md): throughput and ETag conflicts
 */
import { Item } from '@azure/cosmos';
import { InvocationContext } from '@azure/functions';
import { performance } from 'node:perf_hooks';
import { startCosmosServer, type RunningCosmos } from '../local/dependencies/cosmos-server';
import { capturedFunctions } from '../local/engine/functions-core';
import { provisionLocalDatabases } from '../local/dependencies/provision';
import { resetCosmosClients } from '../src/libs/cosmos';
import { TransientError } from '../src/libs/errors';
import { factType } from '../src/libs/events';
import type { BenchConfig } from './config';
import { round, summarize, type Summary } from './stats';

export interface StockRunResult {
  freshReserveMs: Summary;
  soldReserveMs: Summary;
  releasesReserveMs: Summary;
  /** soldReserveMs.p50 / freshReserveMs.p50. */
  stockOpGrowth: number;
  stockOpGrowthWithReleases: number;
  realOrders: number;
  documentBytes: { fresh: number; afterRealOrders: number; after100k: number; withReleases: number };
  bytesPerCompletedOrder: number;
  hotSku: {
    documents: number;
    reservesPerSecond: number;
    conflictsPerReserve: number;
    gaveUpShare: number;
    p50Ms: number;
  }[];
}

const SOLD = 100_000;

export async function runStockPhase(config: BenchConfig, log: (line: string) => void): Promise<StockRunResult> {
  let cosmos: RunningCosmos | undefined;
  try {
    cosmos = await startCosmosServer();
    log(`stock: local Cosmos server pid ${cosmos.pid}`);
    process.env.COSMOS_ENDPOINT = cosmos.endpoint;
    resetCosmosClients();
    await provisionLocalDatabases();
    await import('../src/services/inventory');
    const { reserveStock } = await import('../src/services/inventory/reserve-stock');
    const { commitStock } = await import('../src/services/inventory/commit-stock');
    const { readStock, seedStock, stockContainer } = await import('../src/services/inventory/repository');
    if (!capturedFunctions().has('reserveStock')) throw new Error('the inventory activities did not register');
    const context = new InvocationContext({ functionName: 'bench', logHandler: () => undefined });
    const run = `${process.pid}-${Date.now()}`;
    let orderSequence = 0;
    const ids = () => ({ orderId: `stock-${run}-${orderSequence++}`, correlationId: 'bench-stock' });

    /** One order: reserve (timed), then commit, as a completed order does. */
    const sell = async (sku: string): Promise<number> => {
      const order = ids();
      const lines = [{ sku, quantity: 1 }];
      const start = performance.now();
      const fact = await reserveStock({ ...order, lines }, context);
      const ms = performance.now() - start;
      if (fact.type !== factType('inventory', 'StockReserved'))
        throw new Error(`stock: ${sku} could not be reserved: ${JSON.stringify(fact)}`);
      await commitStock({ ...order, lines }, context);
      return ms;
    };
    const measure = async (sku: string, count: number) => {
      const times: number[] = [];
      for (let index = 0; index < count; index += 1) times.push(await sell(sku));
      return summarize(times);
    };
    const size = async (sku: string) => JSON.stringify(await readStock(sku)).length;
    const samples = 200;

    const fresh = `STOCK-FRESH-${run}`;
    const sold = `STOCK-SOLD-${run}`;
    const released = `STOCK-RELEASES-${run}`;
    await seedStock([fresh, sold, released].map((sku) => ({ sku, available: SOLD * 2 })));
    const freshBytes = await size(fresh);
    await measure(fresh, 20); // warm-up: connections, JIT
    const freshReserveMs = await measure(fresh, samples);

    log(`stock: ${config.stockOrders} real completed orders on one sku`);
    const before = await size(sold);
    await measure(sold, config.stockOrders);
    const afterReal = await size(sold);
    const bytesPerCompletedOrder = (afterReal - before) / config.stockOrders;
    // What the other orders leave: the sold count grows, nothing else (the growth just measured).
    const moveOn = async (sku: string, extra: (document: Record<string, unknown>) => Record<string, unknown>) => {
      const document = (await readStock(sku))!;
      await stockContainer().items.upsert(extra({ ...document, committed: SOLD, available: SOLD }));
    };
    await moveOn(sold, (document) => document);
    const after100k = await size(sold);
    const soldReserveMs = await measure(sold, samples);

    const now = Date.now();
    const tombstones = Object.fromEntries(
      Array.from({ length: SOLD / 50 }, (_, index) => [
        `released-${run}-${index}`,
        { at: new Date(now - index * 1000).toISOString(), quantity: 1 },
      ]),
    );
    await moveOn(released, (document) => ({ ...document, released: tombstones }));
    const withReleases = await size(released);
    const releasesReserveMs = await measure(released, samples);

    // A hot sku: every reserver on one document, or spread over buckets (separate documents).
    const hotSku: StockRunResult['hotSku'] = [];
    for (const documents of [1, 4, 8]) {
      const skus = Array.from({ length: documents }, (_, index) => `STOCK-HOT-${documents}-${run}-${index}`);
      await seedStock(skus.map((sku) => ({ sku, available: SOLD })));
      const conflicts = countConflicts();
      const perClient = 30;
      const times: number[] = [];
      let gaveUp = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: config.concurrency }, async (_, client) => {
          for (let index = 0; index < perClient; index += 1) {
            try {
              times.push(await sell(skus[(client + index) % documents]));
            } catch (error) {
              // Still contended after the activity's own attempts: the saga's retry policy would wait and try again.
              if (!(error instanceof TransientError)) throw error;
              gaveUp += 1;
            }
          }
        }),
      );
      const wallMs = performance.now() - start;
      const reserves = config.concurrency * perClient;
      hotSku.push({
        documents,
        reservesPerSecond: round(times.length / (wallMs / 1000), 1),
        conflictsPerReserve: round(conflicts.stop() / reserves, 3),
        gaveUpShare: round(gaveUp / reserves, 3),
        p50Ms: summarize(times).p50,
      });
    }

    return {
      freshReserveMs,
      soldReserveMs,
      releasesReserveMs,
      stockOpGrowth: soldReserveMs.p50 / freshReserveMs.p50,
      stockOpGrowthWithReleases: releasesReserveMs.p50 / freshReserveMs.p50,
      realOrders: config.stockOrders,
      documentBytes: { fresh: freshBytes, afterRealOrders: afterReal, after100k, withReleases },
      bytesPerCompletedOrder,
      hotSku,
    };
  } finally {
    resetCosmosClients();
    await cosmos?.stop();
  }
}

/** Counts replaces refused for a stale ETag (412) until stopped: each is a read and decide again. */
function countConflicts(): { stop(): number } {
  const replace = Item.prototype.replace;
  let conflicts = 0;
  Item.prototype.replace = async function (this: Item, ...args: Parameters<Item['replace']>) {
    try {
      return await replace.apply(this, args);
    } catch (error) {
      if ((error as { code?: number }).code === 412) conflicts += 1;
      throw error;
    }
  } as Item['replace'];
  return {
    stop() {
      Item.prototype.replace = replace;
      return conflicts;
    },
  };
}
