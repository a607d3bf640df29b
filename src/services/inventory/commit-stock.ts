import { registerActivity } from '../../libs/activity';
import { factType, type OrderLine } from '../../libs/events';
import { InventoryContract } from './contract';
import { commitHold } from './holds';
import { linesBySku } from './order-lines';
import { markOrderSold } from './repository';

/**
 * The order completed: each of its holds folds into the sku's sold units, so a stock document
 * keeps only the holds of orders in flight. A repeat finds no hold and folds nothing.
 *
 * The order is marked sold FIRST, before any hold leaves a stock document: from the moment a
 * hold is gone, a late reserve of this order (see reserve-stock.ts) must find the marker, or it
 * would take the units again. A commit that stops between the two leaves the marker and the
 * holds; its retry folds them, and a reserve in between takes nothing (the holds stand for it).
 */
export const commitStock = registerActivity(InventoryContract.commit, async (command, { log }) => {
  const ids = { orderId: command.orderId, correlationId: command.correlationId };
  const lines = linesBySku(command.lines);
  await markOrderSold(
    command.orderId,
    lines.map((line) => line.sku),
  );
  const committed: OrderLine[] = [];
  for (const line of lines) {
    const quantity = await commitHold(line.sku, command.orderId, line.quantity);
    if (quantity > 0) committed.push({ sku: line.sku, quantity });
  }
  log.info(committed.length > 0 ? 'stock committed' : 'no hold left; nothing to commit', { committed });
  return { type: factType('inventory', 'StockCommitted'), ...ids, committed };
});
