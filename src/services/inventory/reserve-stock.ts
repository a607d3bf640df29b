import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { correlatedLogger } from '../../libs/correlation';
import { factType, parseCommand, ReserveStock, type OrderLine, type StockReserved, type StockUnavailable } from '../../libs/events';
import { InventoryActivities } from './contract';
import { giveBackHold, takeHold } from './holds';
import { linesBySku } from './order-lines';

/**
 * Holds every line of the order, or none: when a line cannot be held, the holds this order has
 * on the lines before it are given back before answering, so "unavailable" never strands stock.
 */
export async function reserveStock(input: unknown, context: InvocationContext): Promise<StockReserved | StockUnavailable> {
  const command = parseCommand(ReserveStock, input);
  const ids = { orderId: command.orderId, correlationId: command.correlationId };
  const log = correlatedLogger(context, ids);
  const lines = linesBySku(command.lines);

  const held: OrderLine[] = [];
  for (const line of lines) {
    const outcome = await takeHold(line.sku, command.orderId, line.quantity);
    if (!outcome.held) {
      for (const earlier of held) await giveBackHold(earlier.sku, command.orderId);
      log.info('stock unavailable', { sku: line.sku, requested: line.quantity, available: outcome.available });
      return { type: factType('inventory', 'StockUnavailable'), ...ids, sku: line.sku, requested: line.quantity, available: outcome.available };
    }
    held.push(line);
  }
  log.info('stock reserved', { lines });
  return { type: factType('inventory', 'StockReserved'), ...ids, lines };
}

df.app.activity(InventoryActivities.reserve, { handler: reserveStock });
