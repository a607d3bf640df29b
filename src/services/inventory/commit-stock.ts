import { registerActivity } from '../../libs/activity';
import { factType, type OrderLine } from '../../libs/events';
import { InventoryContract } from './contract';
import { commitHold } from './holds';
import { linesBySku } from './order-lines';

/**
 * The order completed: each of its holds folds into the sku's sold units, so a stock document
 * keeps only the holds of orders in flight. A repeat finds no hold and folds nothing.
 */
export const commitStock = registerActivity(InventoryContract.commit, async (command, { log }) => {
  const ids = { orderId: command.orderId, correlationId: command.correlationId };
  const committed: OrderLine[] = [];
  for (const { sku } of linesBySku(command.lines)) {
    const quantity = await commitHold(sku, command.orderId);
    if (quantity > 0) committed.push({ sku, quantity });
  }
  log.info(committed.length > 0 ? 'stock committed' : 'no hold left; nothing to commit', { committed });
  return { type: factType('inventory', 'StockCommitted'), ...ids, committed };
});
