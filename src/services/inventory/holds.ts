/**
 * Holds: units of one sku set aside for one order, in the sku's stock document. Each change of a
 * hold moves units and the hold in one guarded write, and each is keyed by order id, so repeating
 * any of them changes nothing.
 *
 * A hold lives only while its order is in flight, so the document stays the size of the orders in
 * flight, not of the sales so far:
 * - a completed order's hold folds into `committed` (sold units, a single number); the order is
 *   marked sold in its own small document (repository.ts), which refuses a late reserve of it;
 * - a released hold leaves a tombstone (order id → when, and the units given back), so a late,
 *   redelivered reserve of that order cannot take the units again, and a repeated release answers
 *   with what the first one gave back. Tombstones older than TOMBSTONE_RETENTION_MS are dropped
 *   on the next write: far longer than any redelivery (a message's lease is minutes).
 */
import { changeStock, foldHoldInPlace, type ReleasedHold, type StockDocument } from './repository';

export type HoldOutcome = { kind: 'held' } | { kind: 'short'; available: number };

/** How long a released hold keeps refusing a late reserve of its order. */
export const TOMBSTONE_RETENTION_MS = 7 * 24 * 3600_000;

function stockWith(
  stock: StockDocument,
  now: Date,
  change: Partial<Pick<StockDocument, 'available' | 'committed' | 'holds' | 'released'>>,
): StockDocument {
  const next = {
    available: stock.available,
    committed: stock.committed ?? 0,
    holds: stock.holds,
    released: stock.released ?? {},
    ...change,
  };
  const oldest = now.getTime() - TOMBSTONE_RETENTION_MS;
  const released = Object.fromEntries(
    Object.entries(next.released).filter(([, tombstone]) => Date.parse(releasedAt(tombstone)) >= oldest),
  );
  return {
    id: stock.id,
    sku: stock.sku,
    available: next.available,
    committed: next.committed,
    holds: next.holds,
    released,
  };
}

const releasedAt = (tombstone: ReleasedHold): string => (typeof tombstone === 'string' ? tombstone : tombstone.at);
const releasedUnits = (tombstone: ReleasedHold): number => (typeof tombstone === 'string' ? 0 : tombstone.quantity);

function without(holds: Record<string, number>, orderId: string): Record<string, number> {
  return Object.fromEntries(Object.entries(holds).filter(([holder]) => holder !== orderId));
}

export function takeHold(sku: string, orderId: string, quantity: number, now = new Date()): Promise<HoldOutcome> {
  return changeStock<HoldOutcome>(sku, (stock) => {
    if (!stock) return { result: { kind: 'short', available: 0 } };
    if (Object.hasOwn(stock.holds, orderId)) return { result: { kind: 'held' } };
    // The order's hold was given back: this is a late repeat of a reserve the saga is done with.
    if (stock.released && Object.hasOwn(stock.released, orderId))
      return { result: { kind: 'short', available: stock.available } };
    if (stock.available < quantity) return { result: { kind: 'short', available: stock.available } };
    return {
      write: stockWith(stock, now, {
        available: stock.available - quantity,
        holds: { ...stock.holds, [orderId]: quantity },
      }),
      result: { kind: 'held' },
    };
  });
}

/**
 * Gives the order's hold on `sku` back to the shelf and leaves a tombstone; returns the units
 * given back (0: there was none). The tombstone is written even when there was no hold, so that
 * a reserve still running (or redelivered) for this order cannot take units after its release.
 * It keeps the units, so a repeat (a release whose answer was lost) returns what the first gave back.
 */
export function giveBackHold(sku: string, orderId: string, now = new Date()): Promise<number> {
  return changeStock<number>(sku, (stock) => {
    if (!stock) return { result: 0 };
    const held = Object.hasOwn(stock.holds, orderId) ? stock.holds[orderId] : 0;
    if (held === 0 && stock.released && Object.hasOwn(stock.released, orderId))
      return { result: releasedUnits(stock.released[orderId]) };
    return {
      write: stockWith(stock, now, {
        available: stock.available + held,
        holds: without(stock.holds, orderId),
        released: { ...stock.released, [orderId]: { at: now.toISOString(), quantity: held } },
      }),
      result: held,
    };
  });
}

/**
 * The order completed: its hold becomes sold units. Returns the units committed (0: already done,
 * or never held). `quantity`, the order's line, is what the hold should be: then one patch folds
 * it; anything else is decided on a read.
 */
export async function commitHold(sku: string, orderId: string, quantity?: number, now = new Date()): Promise<number> {
  if (quantity !== undefined && (await foldHoldInPlace(sku, orderId, quantity))) return quantity;
  return commitHoldAsStored(sku, orderId, now);
}

function commitHoldAsStored(sku: string, orderId: string, now: Date): Promise<number> {
  return changeStock<number>(sku, (stock) => {
    if (!stock || !Object.hasOwn(stock.holds, orderId)) return { result: 0 };
    const held = stock.holds[orderId];
    return {
      write: stockWith(stock, now, { committed: (stock.committed ?? 0) + held, holds: without(stock.holds, orderId) }),
      result: held,
    };
  });
}
