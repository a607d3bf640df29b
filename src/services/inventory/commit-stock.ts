import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { correlatedLogger } from '../../libs/correlation';
import { CommitStock, factType, parseCommand, type OrderLine, type StockCommitted } from '../../libs/events';
import { InventoryActivities } from './contract';
import { commitHold } from './holds';
import { linesBySku } from './order-lines';

/**
 * The order completed: each of its holds folds into the sku's sold units, so a stock document
 * keeps only the holds of orders in flight. A repeat finds no hold and folds nothing.
 */
export async function commitStock(input: unknown, context: InvocationContext): Promise<StockCommitted> {
  const command = parseCommand(CommitStock, input);
  const ids = { orderId: command.orderId, correlationId: command.correlationId };
  const committed: OrderLine[] = [];
  for (const { sku } of linesBySku(command.lines)) {
    const quantity = await commitHold(sku, command.orderId);
    if (quantity > 0) committed.push({ sku, quantity });
  }
  correlatedLogger(context, ids).info(committed.length > 0 ? 'stock committed' : 'no hold left; nothing to commit', { committed });
  return { type: factType('inventory', 'StockCommitted'), ...ids, committed };
}

df.app.activity(InventoryActivities.commit, { handler: commitStock });
