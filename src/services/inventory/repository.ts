/**
 * The inventory context's data: one stock document per sku, holding the units still available,
 * the units sold, and the hold of every order in flight on that sku (see holds.ts). A hold lives in the same document as the counter, so one
 * ETag-guarded replace moves units from "available" to "held" atomically: no cross-document
 * transaction is needed (and the local Cosmos server's transactional batch is not atomic).
 */
import { contextDatabase, cosmosStatus, optimisticUpdate } from '../../libs/cosmos';

export const inventoryData = contextDatabase('inventory', { stock: '/sku' });

export interface StockDocument {
  id: string;
  sku: string;
  available: number;
  /** orderId → units held for that order, while it is in flight. */
  holds: Record<string, number>;
  /** Units of completed orders: their holds folded into one number. (Absent on documents written before it existed.) */
  committed?: number;
  /** orderId → when its hold was given back: refuses a late reserve of that order. Pruned by age. */
  released?: Record<string, string>;
}

/** What a look at a sku's stock decided: the document to write (none: leave it) and the result. */
export interface StockDecision<R> {
  write?: StockDocument;
  result: R;
}

export const stockContainer = () => inventoryData.container('stock');

export async function readStock(sku: string): Promise<StockDocument | undefined> {
  const { resource } = await stockContainer().item(sku, sku).read<StockDocument>();
  return resource;
}

/**
 * Read-decide-write on one sku with optimistic concurrency: `decide` sees the current document
 * and returns what to write; the replace succeeds only if nobody wrote since the read (IfMatch).
 * On a conflict the document is read again and `decide` runs again on the fresh state, which is
 * what makes concurrent reservations of the last units never oversell.
 */
export async function changeStock<R>(
  sku: string,
  decide: (stock: StockDocument | undefined) => StockDecision<R>,
): Promise<R> {
  let result!: R;
  await optimisticUpdate<StockDocument>(stockContainer(), sku, sku, (stock) => {
    const decision = decide(stock);
    result = decision.result;
    if (decision.write && !stock) throw new Error(`stock ${sku}: cannot change a sku that does not exist`);
    return decision.write;
  });
  return result;
}

/**
 * Loads stock levels: missing skus are created and existing ones kept, unless `reset`, which
 * replaces them with the given level, nothing sold and no holds (local development and tests only).
 */
export async function seedStock(
  entries: { sku: string; available: number }[],
  { reset = false }: { reset?: boolean } = {},
): Promise<void> {
  for (const { sku, available } of entries) {
    const document: StockDocument = { id: sku, sku, available, committed: 0, holds: {}, released: {} };
    if (reset) {
      await stockContainer().items.upsert(document);
      continue;
    }
    try {
      await stockContainer().items.create(document);
    } catch (error) {
      if (cosmosStatus(error) !== 409) throw error;
    }
  }
}
