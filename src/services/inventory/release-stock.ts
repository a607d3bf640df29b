import { registerActivity } from '../../libs/activity';
import { factType, type OrderLine } from '../../libs/events';
import { InventoryContract } from './contract';
import { giveBackHold } from './holds';
import { linesBySku } from './order-lines';

/**
 * Compensation for reserveStock: gives the order's holds back to the shelf. The fact lists what
 * this run gave back, with the quantities that were held, so a repeat truthfully reports nothing.
 */
export const releaseStock = registerActivity(InventoryContract.release, async (command, { log }) => {
  const ids = { orderId: command.orderId, correlationId: command.correlationId };

  const released: OrderLine[] = [];
  for (const { sku } of linesBySku(command.lines)) {
    const quantity = await giveBackHold(sku, command.orderId);
    if (quantity > 0) released.push({ sku, quantity });
  }
  log.info(released.length > 0 ? 'stock released' : 'no stock held; nothing to release', { released });
  return { type: factType('inventory', 'StockReleased'), ...ids, released };
});
