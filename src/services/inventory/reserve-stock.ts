import { registerActivity } from '../../libs/activity';
import { factType, type OrderLine } from '../../libs/events';
import { InventoryContract } from './contract';
import { giveBackHold, takeHold } from './holds';
import { linesBySku } from './order-lines';
import { isOrderSold } from './repository';

/**
 * Holds every line of the order, or none: when a line cannot be held, the holds this order has
 * on the lines before it are given back before answering, so "unavailable" never strands stock.
 *
 * A reserve of an order whose stock was already committed is a late repeat (delivery is at least
 * once: a run answered, its message came back after the saga completed). Its holds are gone from
 * the stock documents, folded into `committed`, so taking would hold units that no saga will ever
 * commit or release. commitStock marks the order sold before it folds any hold; a reserve that
 * finds the mark takes nothing and answers StockReserved: the units were held for this order and
 * are sold, and the saga that asked is done (it drops the answer).
 *
 * The mark is read BEFORE the takes, on purpose:
 * - Read first, a found mark stops before any write, so it never gives units back. Read after a
 *   take, a found mark could not tell a stray hold (the commit ran before the take) from the
 *   order's real one: a run can take the real hold, stall past its message's lease while the
 *   redelivered run answers "held" from that hold, and wake after the saga's commit wrote its
 *   mark. Giving that hold back before the commit folds it puts sold units on the shelf again
 *   (an oversell).
 * - A mark found while the order's holds still stand (a commit between its mark and its folds):
 *   taking nothing is right; the holds stay for that commit (or its retry) to fold, once.
 * - What is left: a commit that runs whole, mark and folds, between this read and a take's read
 *   of its stock document (about a millisecond here). That take holds units nothing commits: an
 *   undersell, never an oversell, visible as a hold of a completed order.
 */
export const reserveStock = registerActivity(InventoryContract.reserve, async (command, { log }) => {
  const ids = { orderId: command.orderId, correlationId: command.correlationId };
  const lines = linesBySku(command.lines);

  if (await isOrderSold(command.orderId)) {
    log.info('order already sold: a late repeat of its reserve takes nothing', { lines });
    return { type: factType('inventory', 'StockReserved'), ...ids, lines };
  }
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
