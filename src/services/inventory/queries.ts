/** Read-only questions other contexts may ask the inventory context (never its database). */
import { stockContainer } from './repository';

/** Units available per sku, in one query; a sku the inventory does not know has 0. */
export async function availableStock(skus: string[]): Promise<Record<string, number>> {
  const levels: Record<string, number> = Object.fromEntries(skus.map((sku) => [sku, 0]));
  if (skus.length === 0) return levels;
  const { resources } = await stockContainer()
    .items.query<{ sku: string; available: number }>({
      query: 'SELECT c.sku, c.available FROM c WHERE ARRAY_CONTAINS(@skus, c.sku)',
      parameters: [{ name: '@skus', value: skus }],
    })
    .fetchAll();
  for (const { sku, available } of resources) levels[sku] = available;
  return levels;
}
