/**
 * Holds: units of one sku set aside for one order, in the sku's stock document. Taking and
 * giving back a hold each change the counter and the hold in one guarded write, and each is
 * keyed by order id, so repeating either changes nothing.
 */
import { changeStock, type StockDocument } from './repository';

export type HoldOutcome = { held: true } | { held: false; available: number };

function stockWith(stock: StockDocument, available: number, holds: Record<string, number>): StockDocument {
  return { id: stock.id, sku: stock.sku, available, holds };
}

export function takeHold(sku: string, orderId: string, quantity: number): Promise<HoldOutcome> {
  return changeStock<HoldOutcome>(sku, (stock) => {
    if (!stock) return { result: { held: false, available: 0 } };
    if (Object.hasOwn(stock.holds, orderId)) return { result: { held: true } };
    if (stock.available < quantity) return { result: { held: false, available: stock.available } };
    return {
      write: stockWith(stock, stock.available - quantity, { ...stock.holds, [orderId]: quantity }),
      result: { held: true },
    };
  });
}

/** Gives the order's hold on `sku` back to the shelf; returns the units given back (0: there was none). */
export function giveBackHold(sku: string, orderId: string): Promise<number> {
  return changeStock<number>(sku, (stock) => {
    if (!stock || !Object.hasOwn(stock.holds, orderId)) return { result: 0 };
    const held = stock.holds[orderId];
    const otherHolds = Object.fromEntries(Object.entries(stock.holds).filter(([holder]) => holder !== orderId));
    return { write: stockWith(stock, stock.available + held, otherHolds), result: held };
  });
}
