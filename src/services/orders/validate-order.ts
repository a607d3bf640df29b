import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { correlatedLogger } from '../../libs/correlation';
import { factType, OrderPlaced, parseCommand, type OrderInvalid, type OrderValidated } from '../../libs/events';
import { OrdersActivities } from './contract';
import { priceOrder } from './pricing';
import { readCatalog } from './repository';

/** Prices the order from the catalog and checks it can be sold. Reads only; safe to repeat. */
export async function validateOrder(input: unknown, context: InvocationContext): Promise<OrderValidated | OrderInvalid> {
  const order = parseCommand(OrderPlaced, input);
  const log = correlatedLogger(context, order);
  const catalog = await readCatalog(order.items.map((item) => item.sku));
  const pricing = priceOrder(order.items, order.currency, catalog, order.shippingAddress);
  const ids = { orderId: order.orderId, correlationId: order.correlationId };
  if (!pricing.ok) {
    log.info('order invalid', { reasons: pricing.reasons });
    return { type: factType('orders', 'OrderInvalid'), ...ids, reasons: pricing.reasons };
  }
  log.info('order validated', { total: pricing.total, currency: order.currency });
  return { type: factType('orders', 'OrderValidated'), ...ids, lines: pricing.lines, total: pricing.total, currency: order.currency };
}

df.app.activity(OrdersActivities.validate, { handler: validateOrder });
