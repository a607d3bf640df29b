import { registerActivity } from '../../libs/activity';
import { factType, type OrderLine } from '../../libs/events';
import { InventoryContract } from './contract';
import { giveBackHold, takeHold } from './holds';
import { linesBySku } from './order-lines';

/**
 * Holds every line of the order, or none: when a line cannot be held, the holds this order has
 * on the lines before it are given back before answering, so "unavailable" never strands stock.
 */
export const reserveStock = registerActivity(InventoryContract.reserve, async (command, { log }) => {
  const ids = { orderId: command.orderId, correlationId: command.correlationId };
  const lines = linesBySku(command.lines);

  const held: OrderLine[] = [];
  for (const line of lines) {
    const outcome = await takeHold(line.sku, command.orderId, line.quantity);
    if (outcome.kind === 'short') {
      for (const earlier of held) await giveBackHold(earlier.sku, command.orderId);
      log.info('stock unavailable', { sku: line.sku, requested: line.quantity, available: outcome.available });
      return {
        type: factType('inventory', 'StockUnavailable'),
        ...ids,
        sku: line.sku,
        requested: line.quantity,
        available: outcome.available,
      };
    }
    held.push(line);
  }
  log.info('stock reserved', { lines });
  return { type: factType('inventory', 'StockReserved'), ...ids, lines };
});
