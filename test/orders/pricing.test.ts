import { priceOrder } from '../../src/services/orders/pricing';
import type { CatalogItem } from '../../src/services/orders/repository';

const catalog: CatalogItem[] = [
  { sku: 'A', name: 'Alpha', prices: { EUR: 19.99, USD: 21.5, GBP: 17.1 } },
  { sku: 'B', name: 'Beta', prices: { EUR: 0.1, USD: 0.2, GBP: 0.3 } },
];
const address = { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' };

describe('priceOrder', () => {
  it('prices lines from the catalog in the order currency and totals them without float drift', () => {
    const pricing = priceOrder(
      [
        { sku: 'A', quantity: 3 },
        { sku: 'B', quantity: 3 },
      ],
      'EUR',
      catalog,
      address,
    );
    expect(pricing).toEqual({
      kind: 'priced',
      lines: [
        { sku: 'A', quantity: 3, name: 'Alpha', unitPrice: 19.99, lineTotal: 59.97 },
        { sku: 'B', quantity: 3, name: 'Beta', unitPrice: 0.1, lineTotal: 0.3 },
      ],
      total: 60.27,
    });
  });

  it('uses the price of the order currency', () => {
    const pricing = priceOrder([{ sku: 'A', quantity: 2 }], 'USD', catalog, address);
    expect(pricing.kind === 'priced' && pricing.total).toBe(43);
  });

  it('names every reason an order cannot be sold', () => {
    const pricing = priceOrder(
      [
        { sku: 'NOPE', quantity: 1 },
        { sku: 'A', quantity: 1 },
      ],
      'EUR',
      catalog,
      { ...address, country: 'AQ', city: ' ' },
    );
    expect(pricing).toEqual({
      kind: 'invalid',
      reasons: ['unknown sku NOPE', 'we do not ship to AQ', 'shipping address city is empty'],
    });
  });
});
