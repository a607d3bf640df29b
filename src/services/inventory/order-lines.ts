import type { OrderLine } from '../../libs/events';

/**
 * One line per sku, in sku order. A hold is keyed by order id within a sku's document, so two
 * lines of one sku must become one hold; and a fixed order of skus means every run of an order
 * walks its skus the same way.
 */
export function linesBySku(lines: readonly OrderLine[]): OrderLine[] {
  const quantities = new Map<string, number>();
  for (const { sku, quantity } of lines) quantities.set(sku, (quantities.get(sku) ?? 0) + quantity);
  return [...quantities].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([sku, quantity]) => ({ sku, quantity }));
}
