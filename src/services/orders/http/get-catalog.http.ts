/**
 * GET /api/catalog[?currency=EUR]: what can be ordered, at which price, and how many are left.
 * Names and prices are the orders context's; stock is the inventory context's, asked through its
 * query module (never its database).
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { Currency } from '../../../libs/events';
import { answering, json } from '../../../libs/http';
import { availableStock } from '../../inventory/queries';
import { readCatalog } from '../repository';

export async function getCatalogHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const currency = Currency.safeParse(request.query.get('currency') ?? 'EUR');
  if (!currency.success)
    return json(400, { errors: [{ path: '(query).currency', message: 'must be one of EUR, USD, GBP' }] });
  const catalog = await readCatalog();
  const stock = await availableStock(catalog.map((item) => item.sku));
  return json(
    200,
    catalog.map(({ sku, name, prices }) => ({
      sku,
      name,
      price: prices[currency.data],
      currency: currency.data,
      stock: stock[sku] ?? 0,
    })),
  );
}

app.http('getCatalogHttp', {
  route: 'catalog',
  methods: ['GET'],
  authLevel: 'function',
  handler: answering<[HttpRequest, InvocationContext]>(getCatalogHttp),
});
