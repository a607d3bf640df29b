/**
 * The analytics context's data: one fact per order, recorded when the order is fulfilled and
 * retracted (never deleted) when the saga undoes it, so reports can count both.
 */
import { contextDatabase, createOnce, optimisticUpdate } from '../../libs/cosmos';
import type { Currency, PricedLine } from '../../libs/events';

export const analyticsData = contextDatabase('analytics', { facts: '/orderId' });

export interface OrderSale {
  orderId: string;
  customerId: string;
  total: number;
  currency: Currency;
  lines: PricedLine[];
}

export interface FactDocument extends Partial<Omit<OrderSale, 'orderId'>> {
  id: string;
  orderId: string;
  status: 'recorded' | 'retracted';
  /** Absent on a tombstone: the order was retracted before its fact was ever recorded. */
  recordedAt?: string;
  retractedAt?: string;
}

const facts = () => analyticsData.container('facts');

export async function readFact(orderId: string): Promise<FactDocument | undefined> {
  const { resource } = await facts().item(orderId, orderId).read<FactDocument>();
  return resource;
}

/**
 * Records the sale unless the order already has a fact. Whatever is stored stands: a repeat
 * changes nothing, and in particular a retracted fact stays retracted - a late duplicate of the
 * record step must not undo a compensation that already ran (createOnce: one request for the
 * first run, a read only for a repeat).
 */
export async function recordFact(sale: OrderSale, now: Date): Promise<FactDocument> {
  const fact: FactDocument = { id: sale.orderId, ...sale, status: 'recorded', recordedAt: now.toISOString() };
  return (await createOnce(facts(), fact, sale.orderId)).stored;
}

/**
 * Retracts the order's fact. With no fact yet, leaves a retracted tombstone, so that a record
 * arriving late (a redelivered activity) finds the order retracted and cannot resurrect it.
 * `wasRecorded` is read from the stored fact, so a repeat gives the same answer as the first run.
 */
export async function retractFact(orderId: string, now: Date): Promise<{ wasRecorded: boolean }> {
  const stored = await optimisticUpdate<FactDocument>(facts(), orderId, orderId, (current) => {
    if (current?.status === 'retracted') return undefined;
    if (!current) return { id: orderId, orderId, status: 'retracted', retractedAt: now.toISOString() };
    const { id, customerId, total, currency, lines, recordedAt } = current;
    return {
      id,
      orderId,
      customerId,
      total,
      currency,
      lines,
      status: 'retracted',
      recordedAt,
      retractedAt: now.toISOString(),
    };
  });
  return { wasRecorded: stored!.recordedAt !== undefined };
}
