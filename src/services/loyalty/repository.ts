/**
 * The loyalty context's data: a ledger of points per customer, one entry per order at most.
 * The entry's id is the order id, so a fact delivered twice finds its entry already written.
 */
import { contextDatabase, createOnce } from '../../libs/cosmos';

export const loyaltyData = contextDatabase('loyalty', { ledger: '/customerId' });

export interface LedgerEntry {
  /** The order id: one entry per order, whatever the number of deliveries. */
  id: string;
  customerId: string;
  orderId: string;
  correlationId: string;
  points: number;
  why: 'order completed' | 'goodwill: order cancelled after payment';
  /** The fact that earned the points (its versioned type). */
  fact: string;
  at: string;
}

const ledger = () => loyaltyData.container('ledger');

/** Writes the entry unless the order already has one; answers what is stored and whether it was there. */
export async function recordOnce(entry: LedgerEntry): Promise<{ entry: LedgerEntry; repeated: boolean }> {
  const { stored, created } = await createOnce(ledger(), entry, entry.customerId);
  return { entry: stored, repeated: !created };
}

export async function customerLedger(customerId: string): Promise<{ points: number; entries: LedgerEntry[] }> {
  const { resources } = await ledger()
    .items.query<LedgerEntry>(
      {
        query: 'SELECT * FROM c WHERE c.customerId = @customerId',
        parameters: [{ name: '@customerId', value: customerId }],
      },
      { partitionKey: customerId },
    )
    .fetchAll();
  const entries = resources.map(({ id, customerId: owner, orderId, correlationId, points, why, fact, at }) => ({
    id,
    customerId: owner,
    orderId,
    correlationId,
    points,
    why,
    fact,
    at,
  }));
  entries.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  return { points: entries.reduce((sum, entry) => sum + entry.points, 0), entries };
}
