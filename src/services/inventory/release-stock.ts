import { registerActivity } from '../../libs/activity';
import { factType, type OrderLine } from '../../libs/events';
import { InventoryContract } from './contract';
import { giveBackHold } from './holds';
import { linesBySku } from './order-lines';

/**
 * Compensation for reserveStock: gives the order's holds back to the shelf. The fact lists what
 * was given back, with the quantities that were held. A repeat (a release redelivered after its
 * answer was lost) moves nothing and lists the same, read from the release's tombstones: the
 * saga must not log as "nothing to undo" a release that gave the stock back.
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
