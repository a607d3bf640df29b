/** The business rules of a valid order, as pure functions over the catalog. */
import type { Address, Currency, OrderLine, PricedLine } from '../../libs/events';
import { lineTotal, sumAmounts } from '../../libs/money';
import type { CatalogItem } from './repository';

/** Where the shop ships to. */
export const SHIPPING_COUNTRIES = new Set([
  'AT',
  'BE',
  'CH',
  'DE',
  'DK',
  'ES',
  'FI',
  'FR',
  'GB',
  'IE',
  'IT',
  'NL',
  'NO',
  'PL',
  'PT',
  'SE',
  'US',
]);

export type Pricing = { kind: 'priced'; lines: PricedLine[]; total: number } | { kind: 'invalid'; reasons: string[] };

export function priceOrder(
  items: readonly OrderLine[],
  currency: Currency,
  catalog: readonly CatalogItem[],
  address: Address,
): Pricing {
  const bySku = new Map(catalog.map((item) => [item.sku, item]));
  const reasons: string[] = [];
  const lines: PricedLine[] = [];
  for (const { sku, quantity } of items) {
    const item = bySku.get(sku);
    const unitPrice = item?.prices[currency];
    if (!item) reasons.push(`unknown sku ${sku}`);
    else if (unitPrice === undefined) reasons.push(`${sku} is not sold in ${currency}`);
    else lines.push({ sku, quantity, name: item.name, unitPrice, lineTotal: lineTotal(unitPrice, quantity) });
  }
  if (!SHIPPING_COUNTRIES.has(address.country)) reasons.push(`we do not ship to ${address.country}`);
  for (const field of ['line1', 'city', 'postalCode'] as const) {
    if (address[field].trim() === '') reasons.push(`shipping address ${field} is empty`);
  }
  return reasons.length > 0
    ? { kind: 'invalid', reasons }
    : { kind: 'priced', lines, total: sumAmounts(lines.map((line) => line.lineTotal)) };
}
