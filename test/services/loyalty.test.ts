/**
 * The loyalty context's ledger against the real local Cosmos server: one entry per order whatever
 * the number of deliveries, the first entry standing, and a customer's balance read back in order.
 * (The queue trigger end to end, on Azurite: test/choreography/loyalty.test.ts.)
 */
import { Item, Items } from '@azure/cosmos';
import { factType } from '../../src/libs/events';
import { awardLoyaltyPoints, GOODWILL_POINTS } from '../../src/services/loyalty/award-loyalty-points';
import { LoyaltyFunctions } from '../../src/services/loyalty/contract';
import { customerLedger, loyaltyData, recordOnce, type LedgerEntry } from '../../src/services/loyalty/repository';
import { invocation, uniqueId } from './helpers';

beforeAll(async () => {
  await loyaltyData.ensureCreated();
});

afterEach(() => {
  jest.restoreAllMocks();
});

const entry = (customerId: string, fields: Partial<LedgerEntry> = {}): LedgerEntry => {
  const orderId = fields.orderId ?? uniqueId('order');
  return {
    id: orderId,
    customerId,
    orderId,
    correlationId: `corr-${orderId}`,
    points: 10,
    why: 'order completed',
    fact: factType('orders', 'OrderCompleted'),
    at: '2026-01-01T10:00:00.000Z',
    ...fields,
  };
};

/** What a caller sees: the entry's own fields, none of Cosmos's system properties. */
const stored = async (customerId: string) => (await customerLedger(customerId)).entries;

describe('recordOnce', () => {
  it('writes a new entry and says it was not there before', async () => {
    const customerId = uniqueId('cust');
    const first = entry(customerId);
    expect(await recordOnce(first)).toEqual({ entry: first, repeated: false });
    expect(await stored(customerId)).toEqual([first]);
  });

  it('keeps the first entry of an order: a repeat, even with other points, changes nothing and answers what is stored', async () => {
    const customerId = uniqueId('cust');
    const first = entry(customerId, { points: 10 });
    await recordOnce(first);
    const repeat = await recordOnce({ ...first, points: 99, at: '2026-01-02T00:00:00.000Z' });
    expect(repeat.repeated).toBe(true);
    expect(repeat.entry).toMatchObject({ ...first, points: 10 });
    expect(await customerLedger(customerId)).toEqual({ points: 10, entries: [first] });
  });

  it('writes one entry when two deliveries race, and tells exactly one of them it wrote', async () => {
    const customerId = uniqueId('cust');
    const first = entry(customerId);
    const outcomes = await Promise.all([recordOnce(first), recordOnce(first)]);
    expect(outcomes.map(({ repeated }) => repeated).sort()).toEqual([false, true]);
    expect(await stored(customerId)).toEqual([first]);
  });

  it('lets a fault other than a conflict through, for the trigger to retry', async () => {
    const customerId = uniqueId('cust');
    jest.spyOn(Items.prototype, 'create').mockRejectedValueOnce(Object.assign(new Error('busy'), { code: 503 }));
    await expect(recordOnce(entry(customerId))).rejects.toMatchObject({ code: 503 });
    expect(await stored(customerId)).toEqual([]);
  });

  it('fails, rather than answer "repeated", when the entry that conflicted cannot be read', async () => {
    const customerId = uniqueId('cust');
    const first = entry(customerId);
    await recordOnce(first);
    jest
      .spyOn(Item.prototype, 'read')
      .mockResolvedValueOnce({ resource: undefined } as Awaited<ReturnType<Item['read']>>);
    await expect(recordOnce(first)).rejects.toMatchObject({
      message: `ledger ${first.id} conflicted on create but cannot be read`,
      cause: expect.objectContaining({ code: 409 }),
    });
  });
});

describe('customerLedger', () => {
  it('sums the points of the customer only, oldest entry first (ties by order id)', async () => {
    const customerId = uniqueId('cust');
    const other = uniqueId('cust');
    const late = entry(customerId, { orderId: `${customerId}-a`, points: 3, at: '2026-01-03T00:00:00.000Z' });
    const tieB = entry(customerId, { orderId: `${customerId}-c`, points: 5, at: '2026-01-01T00:00:00.000Z' });
    const tieA = entry(customerId, { orderId: `${customerId}-b`, points: 7, at: '2026-01-01T00:00:00.000Z' });
    for (const each of [late, tieB, tieA]) await recordOnce(each);
    await recordOnce(entry(other, { points: 1000 }));
    expect(await customerLedger(customerId)).toEqual({ points: 15, entries: [tieA, tieB, late] });
  });

  it('is empty, with no points, for a customer with no entries', async () => {
    expect(await customerLedger(uniqueId('nobody'))).toEqual({ points: 0, entries: [] });
  });
});

describe('awardLoyaltyPoints', () => {
  const outcome = <F extends Record<string, unknown>>(customerId: string, fields: F) => ({
    orderId: uniqueId('order'),
    correlationId: uniqueId('corr'),
    customerId,
    currency: 'EUR',
    ...fields,
  });

  it('awards one point per whole unit for a completed order, once however often the fact is delivered', async () => {
    const customerId = uniqueId('cust');
    const fact = outcome(customerId, {
      type: factType('orders', 'OrderCompleted'),
      total: 159.9,
      completedAt: '2026-01-01T00:00:00.000Z',
    });
    for (let delivery = 0; delivery < 3; delivery += 1)
      await awardLoyaltyPoints(fact, invocation(LoyaltyFunctions.onOrderOutcome));
    expect(await customerLedger(customerId)).toEqual({
      points: 159,
      entries: [
        {
          id: fact.orderId,
          customerId,
          orderId: fact.orderId,
          correlationId: fact.correlationId,
          points: 159,
          why: 'order completed',
          fact: fact.type,
          at: fact.completedAt,
        },
      ],
    });
  });

  it('gives goodwill points for an order undone after payment, none for a rejected one', async () => {
    const customerId = uniqueId('cust');
    const cancelled = (finalStatus: string) =>
      outcome(customerId, {
        type: factType('orders', 'OrderCancelled'),
        finalStatus,
        reason: 'r',
        total: 50,
        cancelledAt: '2026-01-01T00:00:00.000Z',
      });
    await awardLoyaltyPoints(cancelled('Rejected'), invocation(LoyaltyFunctions.onOrderOutcome));
    await awardLoyaltyPoints(cancelled('Compensated'), invocation(LoyaltyFunctions.onOrderOutcome));
    const { points, entries } = await customerLedger(customerId);
    expect(points).toBe(GOODWILL_POINTS);
    expect(entries).toEqual([
      expect.objectContaining({ why: 'goodwill: order cancelled after payment', points: GOODWILL_POINTS }),
    ]);
  });
});
