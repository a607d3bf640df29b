import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { correlatedLogger } from '../../libs/correlation';
import { factType, parseCommand, ReleaseStock, type OrderLine, type StockReleased } from '../../libs/events';
import { InventoryActivities } from './contract';
import { giveBackHold } from './holds';
import { linesBySku } from './order-lines';

/**
 * Compensation for reserveStock: gives the order's holds back to the shelf. The fact lists what
 * this run gave back, with the quantities that were held, so a repeat truthfully reports nothing.
 */
export async function releaseStock(input: unknown, context: InvocationContext): Promise<StockReleased> {
  const command = parseCommand(ReleaseStock, input);
  const ids = { orderId: command.orderId, correlationId: command.correlationId };
  const log = correlatedLogger(context, ids);

  const released: OrderLine[] = [];
  for (const { sku } of linesBySku(command.lines)) {
    const quantity = await giveBackHold(sku, command.orderId);
    if (quantity > 0) released.push({ sku, quantity });
  }
  log.info(released.length > 0 ? 'stock released' : 'no stock held; nothing to release', { released });
  return { type: factType('inventory', 'StockReleased'), ...ids, released };
}

df.app.activity(InventoryActivities.release, { handler: releaseStock });
