import { registerActivity } from '../../libs/activity';
import { factType } from '../../libs/events';
import { OrdersContract } from './contract';
import { priceOrder } from './pricing';
import { readCatalog } from './repository';

/** Prices the order from the catalog and checks it can be sold. Reads only; safe to repeat. */
export const validateOrder = registerActivity(OrdersContract.validate, async (order, { log }) => {
  const catalog = await readCatalog(order.items.map((item) => item.sku));
  const pricing = priceOrder(order.items, order.currency, catalog, order.shippingAddress);
  const ids = { orderId: order.orderId, correlationId: order.correlationId };
  if (pricing.kind === 'invalid') {
    log.info('order invalid', { reasons: pricing.reasons });
    return { type: factType('orders', 'OrderInvalid'), ...ids, reasons: pricing.reasons };
  }
  log.info('order validated', { total: pricing.total, currency: order.currency });
  return {
    type: factType('orders', 'OrderValidated'),
    ...ids,
    lines: pricing.lines,
    total: pricing.total,
    currency: order.currency,
  };
});
