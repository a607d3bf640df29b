/**
 * What the simulated gateway actually moved for an order, in major units: the ground truth for
 * "charged at most once" and "refunded what was charged", whatever the payments document says.
 * Only tests ask, so it lives here rather than in the payments context.
 */
import type { LedgerEntry, LedgerStatus } from '../../src/services/payments/repository';
import { paymentsData } from '../../src/services/payments/repository';
import { sumAmounts } from '../../src/libs/money';

export async function gatewayTotals(orderId: string): Promise<{ charged: number; refunded: number }> {
  const { resources } = await paymentsData
    .container('gatewayLedger')
    .items.query<LedgerEntry>({
      query: 'SELECT * FROM c WHERE c.orderId = @orderId',
      parameters: [{ name: '@orderId', value: orderId }],
    })
    .fetchAll();
  const settled = (operation: LedgerEntry['operation'], status: LedgerStatus) =>
    resources.filter((entry) => entry.operation === operation && entry.status === status).map((entry) => entry.amount);
  return { charged: sumAmounts(settled('charge', 'charged')), refunded: sumAmounts(settled('refund', 'refunded')) };
}
