/**
 * Shared by the resilience tests: dedicated catalog items (so stock counts belong to one test),
 * what the payments gateway and the inventory hold for an order, and a seeded shuffle.
 */
import fc from 'fast-check';
import { readStock } from '../../src/services/inventory/repository';
import { paymentsData, type LedgerEntry, type PaymentDocument } from '../../src/services/payments/repository';
import { seedDemoCatalog } from '../../local/dependencies/provision';
import { orderRequest, type OrderRequest } from '../support/orders';
import type { SagaApp } from '../support/saga-app';

/** Unique per call, within the pattern the API accepts for skus and order ids. */
let counter = 0;
export const uniqueName = (label: string): string =>
  `${label}-${process.pid}-${Date.now().toString(36)}-${(counter += 1)}`;

/** Seeds one sku nobody else orders, priced the same in every currency (well under the approval threshold). */
export async function seedDedicatedSku(
  label: string,
  { price, stock }: { price: number; stock: number },
): Promise<string> {
  const sku = uniqueName(label).toUpperCase();
  await seedDemoCatalog([
    { sku, name: `resilience test item ${sku}`, prices: { EUR: price, USD: price, GBP: price }, stock },
  ]);
  return sku;
}

export function order(orderId: string, items: OrderRequest['items']): OrderRequest {
  return orderRequest({ orderId, items });
}

export async function stockOf(
  sku: string,
): Promise<{ available: number; holds: Record<string, number>; held: number; committed: number }> {
  const stock = await readStock(sku);
  if (!stock) throw new Error(`no stock document for ${sku}`);
  return {
    available: stock.available,
    holds: stock.holds,
    held: Object.values(stock.holds).reduce((sum, units) => sum + units, 0),
    committed: stock.committed ?? 0,
  };
}

/** Every gateway ledger entry (charges and refunds) for the order: what the payment provider moved. */
export async function ledgerEntries(orderId: string): Promise<LedgerEntry[]> {
  const { resources } = await paymentsData
    .container('gatewayLedger')
    .items.query<LedgerEntry>({
      query: 'SELECT * FROM c WHERE c.orderId = @orderId',
      parameters: [{ name: '@orderId', value: orderId }],
    })
    .fetchAll();
  return resources;
}

/** How many payment documents and gateway ledger entries exist at all. */
export async function paymentFootprint(): Promise<{ payments: number; ledger: number }> {
  const count = async (container: 'payments' | 'gatewayLedger') =>
    (await paymentsData.container(container).items.readAll<PaymentDocument | LedgerEntry>().fetchAll()).resources
      .length;
  return { payments: await count('payments'), ledger: await count('gatewayLedger') };
}

/** How many orchestration instances the engine knows (all statuses). */
export const instanceCount = (app: SagaApp): number => app.engine.listInstances().length;

/** The items in an order fixed by `seed` (fast-check's shuffle), so a failing run can be replayed. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const [order] = fc.sample(fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length }), {
    seed,
    numRuns: 1,
  });
  return order;
}

/** Sums amounts in minor units, as the shop does, so expected totals do not drift. */
export const sumMoney = (amounts: readonly number[]): number =>
  amounts.reduce((total, amount) => total + Math.round(amount * 100), 0) / 100;
