/**
 * The inventory context's data: one stock document per sku, holding the units still available,
 * the units sold, and the hold of every order in flight on that sku (see holds.ts). A hold lives in the same document as the counter, so one
 * ETag-guarded replace moves units from "available" to "held" atomically: no cross-document
 * transaction is needed (and the local Cosmos server's transactional batch is not atomic).
 *
 * Beside it, one small document per order whose stock was committed (`soldOrders`): the stock
 * document forgets a completed order's hold, so this is what refuses a reserve of that order
 * redelivered afterwards (see reserve-stock.ts), without the stock document growing with sales.
 */
import { contextDatabase, cosmosStatus, optimisticUpdate } from '../../libs/cosmos';

export const inventoryData = contextDatabase('inventory', { stock: '/sku', soldOrders: '/id' });

export interface StockDocument {
  id: string;
  sku: string;
  available: number;
  /** orderId → units held for that order, while it is in flight. */
  holds: Record<string, number>;
  /** Units of completed orders: their holds folded into one number. (Absent on documents written before it existed.) */
  committed?: number;
  /** orderId → its released hold: refuses a late reserve of that order. Pruned by age. */
  released?: Record<string, ReleasedHold>;
}

/**
 * A release tombstone: when the order's hold was given back and how many units it held (0: there
 * was none), so a repeat of the release answers with what the first one gave back. A bare time is
 * a tombstone written before the units were kept: it guards all the same, and answers 0.
 */
export type ReleasedHold = { at: string; quantity: number } | string;

/** What a look at a sku's stock decided: the document to write (none: leave it) and the result. */
export interface StockDecision<R> {
  write?: StockDocument;
  result: R;
}

export const stockContainer = () => inventoryData.container('stock');

/** An order whose stock was committed. Its id is the order id. */
export interface SoldOrderDocument {
  id: string;
  orderId: string;
  /** The order's skus: what an operator looking into a late reserve wants to see. */
  skus: string[];
  soldAt: string;
}

/**
 * How long an order stays marked sold: the default TTL of the `soldOrders` container in infra/
 * (7 days, as long as a release tombstone is kept). A redelivered reserve comes back within the
 * message's lease (minutes) or the reserve's retry budget, far sooner. The local Cosmos server
 * ignores TTL: locally the documents stay, which changes no answer (one small document per sold
 * order, never read except by a reserve of that very order).
 */
export const SOLD_ORDER_TTL_SECONDS = 7 * 24 * 3600;

export const soldOrdersContainer = () => inventoryData.container('soldOrders');

/** Marks the order sold; idempotent (a marker already there stands, whoever wrote it). */
export async function markOrderSold(orderId: string, skus: string[], now = new Date()): Promise<void> {
  const marker: SoldOrderDocument = { id: orderId, orderId, skus, soldAt: now.toISOString() };
  try {
    await soldOrdersContainer().items.create(marker);
  } catch (error) {
    if (cosmosStatus(error) !== 409) throw error;
  }
}

export async function isOrderSold(orderId: string): Promise<boolean> {
  const { resource } = await soldOrdersContainer().item(orderId, orderId).read<SoldOrderDocument>();
  return resource !== undefined;
}

/**
 * Order ids that may stand in a patch's path and filter as they are: intake's characters, lower
 * case only, because the local Cosmos server lower-cases a patch's filter (property names too),
 * where `holds["ABC"]` would read the hold of order `abc`.
 */
const PLAIN_ORDER_ID = /^[a-z0-9_-]{1,64}$/;

/**
 * Folds the order's hold into `committed` in one request: a patch that applies only while the
 * hold is there with this quantity, so it runs inside Cosmos and cannot fold twice. Answers false
 * when the condition does not hold (folded already, never held, another quantity), and the caller
 * decides on a read (as it does for an order id with capitals: see PLAIN_ORDER_ID).
 */
export async function foldHoldInPlace(sku: string, orderId: string, quantity: number): Promise<boolean> {
  if (!PLAIN_ORDER_ID.test(orderId) || !Number.isInteger(quantity)) return false;
  try {
    await stockContainer()
      .item(sku, sku)
      .patch({
        operations: [
          { op: 'incr', path: '/committed', value: quantity },
          { op: 'remove', path: `/holds/${orderId}` },
        ],
        condition: `FROM c WHERE c.holds["${orderId}"] = ${quantity}`,
      });
    return true;
  } catch (error) {
    if (cosmosStatus(error) === 412 || cosmosStatus(error) === 404) return false;
    throw error;
  }
}

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
