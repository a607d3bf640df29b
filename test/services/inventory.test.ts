/** The inventory context against the real local Cosmos server: holds, ETag races, no overselling. */
import { Item, Items } from '@azure/cosmos';
import { capturedFunctions } from '../../local/engine/functions-core';
import { cosmosStatus } from '../../src/libs/cosmos';
import { factType, type OrderLine } from '../../src/libs/events';
import '../../src/services/inventory';
import { InventoryActivities } from '../../src/services/inventory/contract';
import { availableStock } from '../../src/services/inventory/queries';
import {
  changeStock,
  inventoryData,
  isOrderSold,
  markOrderSold,
  readStock,
  seedStock,
  soldOrdersContainer,
  stockContainer,
  type SoldOrderDocument,
  type StockDocument,
} from '../../src/services/inventory/repository';
import { commitStock } from '../../src/services/inventory/commit-stock';
import { TOMBSTONE_RETENTION_MS, giveBackHold } from '../../src/services/inventory/holds';
import { releaseStock } from '../../src/services/inventory/release-stock';
import { reserveStock } from '../../src/services/inventory/reserve-stock';
import { invocation, newOrder, uniqueId } from './helpers';

beforeAll(async () => {
  await inventoryData.ensureCreated();
});

afterEach(() => {
  jest.restoreAllMocks();
});

const reserve = (ids: { orderId: string; correlationId: string }, lines: OrderLine[]) =>
  reserveStock({ ...ids, lines }, invocation(InventoryActivities.reserve));
const release = (ids: { orderId: string; correlationId: string }, lines: OrderLine[]) =>
  releaseStock({ ...ids, lines }, invocation(InventoryActivities.release));
const commit = (ids: { orderId: string; correlationId: string }, lines: OrderLine[]) =>
  commitStock({ ...ids, lines }, invocation(InventoryActivities.commit));

async function newSku(available: number): Promise<string> {
  const [sku] = await newSkus(available);
  return sku;
}

/** Fresh skus with the given stock, named so that they sort in the order given. */
async function newSkus(...available: number[]): Promise<string[]> {
  const stem = uniqueId('SKU');
  const skus = available.map((_, index) => `${stem}-${String.fromCharCode(65 + index)}`);
  await seedStock(skus.map((sku, index) => ({ sku, available: available[index] })));
  return skus;
}

const levels = async (...skus: string[]) =>
  Promise.all(
    skus.map(async (sku) => {
      const stock = await readStock(sku);
      return { available: stock?.available, holds: stock?.holds };
    }),
  );

describe('inventory context', () => {
  it('registers its activities under the names of its contract', () => {
    expect(InventoryActivities).toEqual({ reserve: 'reserveStock', release: 'releaseStock', commit: 'commitStock' });
    expect(capturedFunctions().has('reserveStock')).toBe(true);
    expect(capturedFunctions().has('releaseStock')).toBe(true);
    expect(capturedFunctions().has('commitStock')).toBe(true);
  });
});

describe('reserveStock', () => {
  it('holds the units for the order and takes them off the shelf', async () => {
    const sku = await newSku(10);
    const ids = newOrder();
    const fact = await reserve(ids, [{ sku, quantity: 3 }]);
    expect(fact).toEqual({ type: factType('inventory', 'StockReserved'), ...ids, lines: [{ sku, quantity: 3 }] });
    expect(await levels(sku)).toEqual([{ available: 7, holds: { [ids.orderId]: 3 } }]);
  });

  it('holds once when run twice: same fact, stock document unchanged by the repeat', async () => {
    const [a, b] = await newSkus(10, 10);
    const ids = newOrder();
    const lines = [
      { sku: b, quantity: 1 },
      { sku: a, quantity: 2 },
    ];
    const first = await reserve(ids, lines);
    const afterFirst = await Promise.all([readStock(a), readStock(b)]);
    expect(await reserve(ids, lines)).toEqual(first);
    expect(await Promise.all([readStock(a), readStock(b)])).toEqual(afterFirst); // including _etag: no write at all
    expect(afterFirst.map((stock) => stock?.available)).toEqual([8, 9]);
  });

  it('holds once when two runs of the same order race', async () => {
    const sku = await newSku(10);
    const ids = newOrder();
    const [x, y] = await Promise.all([reserve(ids, [{ sku, quantity: 4 }]), reserve(ids, [{ sku, quantity: 4 }])]);
    expect(x).toEqual(y);
    expect(await levels(sku)).toEqual([{ available: 6, holds: { [ids.orderId]: 4 } }]);
  });

  it('answers StockUnavailable when the shelf is short, and takes nothing', async () => {
    const sku = await newSku(2);
    const ids = newOrder();
    const fact = await reserve(ids, [{ sku, quantity: 3 }]);
    expect(fact).toEqual({ type: factType('inventory', 'StockUnavailable'), ...ids, sku, requested: 3, available: 2 });
    expect(await reserve(ids, [{ sku, quantity: 3 }])).toEqual(fact);
    expect(await levels(sku)).toEqual([{ available: 2, holds: {} }]);
  });

  it('answers StockUnavailable with 0 available for a sku it does not know', async () => {
    const ids = newOrder();
    const sku = uniqueId('NO-SUCH-SKU');
    expect(await reserve(ids, [{ sku, quantity: 1 }])).toMatchObject({
      type: factType('inventory', 'StockUnavailable'),
      sku,
      requested: 1,
      available: 0,
    });
    expect(await readStock(sku)).toBeUndefined();
  });

  it('gives back the earlier lines when a later line is short', async () => {
    const [first, second] = await newSkus(5, 1);
    const ids = newOrder();
    // Listed out of order on purpose: lines are taken in sku order, so `first` is held before `second` is found short.
    const fact = await reserve(ids, [
      { sku: second, quantity: 3 },
      { sku: first, quantity: 2 },
    ]);
    expect(fact).toMatchObject({
      type: factType('inventory', 'StockUnavailable'),
      sku: second,
      requested: 3,
      available: 1,
    });
    expect(await levels(first, second)).toEqual([
      { available: 5, holds: {} },
      { available: 1, holds: {} },
    ]);
  });

  it('merges lines of the same sku into one hold', async () => {
    const sku = await newSku(10);
    const ids = newOrder();
    const fact = await reserve(ids, [
      { sku, quantity: 1 },
      { sku, quantity: 2 },
    ]);
    expect(fact).toMatchObject({ lines: [{ sku, quantity: 3 }] });
    expect(await levels(sku)).toEqual([{ available: 7, holds: { [ids.orderId]: 3 } }]);
  });

  it('never oversells: 10 concurrent orders of 1 on a stock of 5', async () => {
    const sku = await newSku(5);
    const orders = Array.from({ length: 10 }, () => newOrder());
    const facts = await Promise.all(orders.map((ids) => reserve(ids, [{ sku, quantity: 1 }])));
    const winners = facts.filter((fact) => fact.type === factType('inventory', 'StockReserved'));
    expect(winners).toHaveLength(5);
    const stock = await readStock(sku);
    expect(stock?.available).toBe(0);
    expect(Object.keys(stock!.holds).sort()).toEqual(winners.map((fact) => fact.orderId).sort());
    expect(Object.values(stock!.holds)).toEqual([1, 1, 1, 1, 1]);
  });

  it('lets exactly one of two concurrent orders of 3 on a stock of 5 win', async () => {
    const sku = await newSku(5);
    const [x, y] = [newOrder(), newOrder()];
    const facts = await Promise.all([reserve(x, [{ sku, quantity: 3 }]), reserve(y, [{ sku, quantity: 3 }])]);
    expect(facts.map((fact) => fact.type).sort()).toEqual([
      factType('inventory', 'StockReserved'),
      factType('inventory', 'StockUnavailable'),
    ]);
    const loser = facts.find((fact) => fact.type === factType('inventory', 'StockUnavailable'));
    expect(loser).toMatchObject({ requested: 3, available: 2 });
    const stock = await readStock(sku);
    expect(stock?.available).toBe(2);
    expect(Object.values(stock!.holds)).toEqual([3]);
  });
});

describe('optimistic concurrency on the stock document', () => {
  it('refuses a replace with a stale ETag (412): the guard the repository relies on', async () => {
    const sku = await newSku(5);
    const item = stockContainer().item(sku, sku);
    const { resource, etag: stale } = await item.read<StockDocument>();
    await item.replace({ ...resource!, available: 4 });
    const error = await item
      .replace({ ...resource!, available: 3 }, { accessCondition: { type: 'IfMatch', condition: stale! } })
      .catch((e: unknown) => e);
    expect(cosmosStatus(error)).toBe(412);
    expect((await readStock(sku))?.available).toBe(4);
  });

  it('re-reads and decides again when another writer gets in between its read and its replace', async () => {
    const sku = await newSku(10);
    const ids = newOrder();
    const replace = Item.prototype.replace;
    let interfered = false;
    const spy = jest.spyOn(Item.prototype, 'replace').mockImplementation(async function (
      this: Item,
      ...args: Parameters<Item['replace']>
    ) {
      if (!interfered && this.id === sku) {
        interfered = true;
        // Another order takes 4 units after reserveStock read the document, making its ETag stale.
        const { resource } = await stockContainer().item(sku, sku).read<StockDocument>();
        await stockContainer().items.upsert({
          ...resource!,
          available: resource!.available - 4,
          holds: { ...resource!.holds, rival: 4 },
        });
      }
      return replace.apply(this, args);
    } as Item['replace']);

    const fact = await reserve(ids, [{ sku, quantity: 3 }]);
    expect(fact).toMatchObject({ type: factType('inventory', 'StockReserved') });
    expect(spy).toHaveBeenCalledTimes(2); // the first replace got 412, the second went through
    expect(await levels(sku)).toEqual([{ available: 3, holds: { rival: 4, [ids.orderId]: 3 } }]);
  });

  it('answers from the fresh state after a conflict: a rival who took the last units wins', async () => {
    const sku = await newSku(3);
    const ids = newOrder();
    const replace = Item.prototype.replace;
    let interfered = false;
    jest.spyOn(Item.prototype, 'replace').mockImplementation(async function (
      this: Item,
      ...args: Parameters<Item['replace']>
    ) {
      if (!interfered && this.id === sku) {
        interfered = true;
        const { resource } = await stockContainer().item(sku, sku).read<StockDocument>();
        await stockContainer().items.upsert({ ...resource!, available: 0, holds: { rival: 3 } });
      }
      return replace.apply(this, args);
    } as Item['replace']);

    expect(await reserve(ids, [{ sku, quantity: 2 }])).toMatchObject({
      type: factType('inventory', 'StockUnavailable'),
      available: 0,
    });
    expect(await levels(sku)).toEqual([{ available: 0, holds: { rival: 3 } }]);
  });
});

describe('releaseStock', () => {
  it('gives the held units back once when run twice; the repeat reports what the first gave back', async () => {
    const [a, b] = await newSkus(10, 10);
    const ids = newOrder();
    const lines = [
      { sku: a, quantity: 2 },
      { sku: b, quantity: 5 },
    ];
    await reserve(ids, lines);
    const first = await release(ids, lines);
    expect(first).toEqual({ type: factType('inventory', 'StockReleased'), ...ids, released: lines });
    const afterFirst = await Promise.all([readStock(a), readStock(b)]);
    expect(afterFirst.map((stock) => [stock?.available, stock?.holds])).toEqual([
      [10, {}],
      [10, {}],
    ]);
    // A repeat (its answer was lost) moves nothing, and says what was given back: the saga reads it as done.
    expect(await release(ids, lines)).toEqual(first);
    expect(await Promise.all([readStock(a), readStock(b)])).toEqual(afterFirst);
  });

  it('keeps the units given back on the tombstone, and 0 for a sku the order held nothing of', async () => {
    const [a, b] = await newSkus(10, 10);
    const ids = newOrder();
    await reserve(ids, [{ sku: a, quantity: 3 }]);
    await release(ids, [
      { sku: a, quantity: 3 },
      { sku: b, quantity: 1 },
    ]);
    expect((await readStock(a))?.released?.[ids.orderId]).toEqual({ at: expect.any(String), quantity: 3 });
    expect((await readStock(b))?.released?.[ids.orderId]).toEqual({ at: expect.any(String), quantity: 0 });
    expect(await release(ids, [{ sku: b, quantity: 1 }])).toMatchObject({ released: [] });
  });

  it('answers a tombstone written before the units were kept (a bare time) with 0, and still refuses a late reserve', async () => {
    const sku = await newSku(5);
    const ids = newOrder();
    const stock = (await readStock(sku))!;
    await stockContainer().items.upsert({ ...stock, released: { [ids.orderId]: new Date().toISOString() } });
    expect(await release(ids, [{ sku, quantity: 1 }])).toMatchObject({ released: [] });
    expect(await reserve(ids, [{ sku, quantity: 1 }])).toMatchObject({
      type: factType('inventory', 'StockUnavailable'),
    });
    expect(await readStock(sku)).toMatchObject({ available: 5, holds: {} });
    // Kept by age like any other on the next write.
    const other = newOrder();
    await release(other, [{ sku, quantity: 1 }]);
    expect(Object.keys((await readStock(sku))!.released!).sort()).toEqual([ids.orderId, other.orderId].sort());
  });

  it('gives back what was held, whatever the command says', async () => {
    const sku = await newSku(10);
    const ids = newOrder();
    await reserve(ids, [{ sku, quantity: 2 }]);
    expect(await release(ids, [{ sku, quantity: 7 }])).toMatchObject({ released: [{ sku, quantity: 2 }] });
    expect((await readStock(sku))?.available).toBe(10);
  });

  it('releases nothing for an order that holds nothing, and leaves other holds alone', async () => {
    const sku = await newSku(10);
    const holder = newOrder();
    await reserve(holder, [{ sku, quantity: 4 }]);
    const stranger = newOrder();
    expect(
      await release(stranger, [
        { sku, quantity: 4 },
        { sku: uniqueId('NO-SUCH-SKU'), quantity: 1 },
      ]),
    ).toMatchObject({ released: [] });
    expect(await levels(sku)).toEqual([{ available: 6, holds: { [holder.orderId]: 4 } }]);
  });

  it('does not disturb concurrent reservations of other orders', async () => {
    const sku = await newSku(20);
    const holder = newOrder();
    await reserve(holder, [{ sku, quantity: 5 }]);
    const others = Array.from({ length: 5 }, () => newOrder());
    await Promise.all([
      release(holder, [{ sku, quantity: 5 }]),
      ...others.map((ids) => reserve(ids, [{ sku, quantity: 2 }])),
    ]);
    const stock = await readStock(sku);
    expect(stock?.available).toBe(10);
    expect(Object.keys(stock!.holds).sort()).toEqual(others.map((ids) => ids.orderId).sort());
  });
});

describe('commitStock: a completed order leaves no hold behind', () => {
  it('folds the hold into the sold units, once when run twice', async () => {
    const [a, b] = await newSkus(10, 10);
    const ids = newOrder();
    const lines = [
      { sku: a, quantity: 2 },
      { sku: b, quantity: 3 },
    ];
    await reserve(ids, lines);
    expect(await commit(ids, lines)).toEqual({
      type: factType('inventory', 'StockCommitted'),
      ...ids,
      committed: lines,
    });
    const after = await Promise.all([readStock(a), readStock(b)]);
    expect(after.map((stock) => [stock?.available, stock?.committed, stock?.holds])).toEqual([
      [8, 2, {}],
      [7, 3, {}],
    ]);
    expect(await commit(ids, lines)).toEqual({ type: factType('inventory', 'StockCommitted'), ...ids, committed: [] });
    expect(await Promise.all([readStock(a), readStock(b)])).toEqual(after); // including _etag: the repeat wrote nothing
  });

  it('keeps the document the size of the orders in flight, however many have sold', async () => {
    const sku = await newSku(1000);
    const inFlight = newOrder();
    await reserve(inFlight, [{ sku, quantity: 1 }]);
    const empty = JSON.stringify(await readStock(sku)).length;
    for (let index = 0; index < 40; index += 1) {
      const ids = newOrder();
      await reserve(ids, [{ sku, quantity: 2 }]);
      await commit(ids, [{ sku, quantity: 2 }]);
    }
    const stock = await readStock(sku);
    expect(stock).toMatchObject({ available: 919, committed: 80, holds: { [inFlight.orderId]: 1 }, released: {} });
    expect(JSON.stringify(stock).length).toBeLessThanOrEqual(empty + 2); // "committed": 0 → 80: the only growth
  });

  it('folds in one request while the hold is as the order says; otherwise as stored, and never twice', async () => {
    const sku = await newSku(10);
    const plain = newOrder();
    await reserve(plain, [{ sku, quantity: 2 }]);
    const patch = jest.spyOn(Item.prototype, 'patch');
    const replace = jest.spyOn(Item.prototype, 'replace');
    expect(await commit(plain, [{ sku, quantity: 2 }])).toMatchObject({ committed: [{ sku, quantity: 2 }] });
    expect([patch.mock.calls.length, replace.mock.calls.length]).toEqual([1, 0]);
    // A hold of another quantity than the command's line (or an id the patch cannot name) is folded as stored.
    const other = newOrder();
    await reserve(other, [{ sku, quantity: 3 }]);
    expect(await commit(other, [{ sku, quantity: 1 }])).toMatchObject({ committed: [{ sku, quantity: 3 }] });
    const capitals = { ...newOrder(), orderId: uniqueId('ORDER').toUpperCase() };
    await reserve(capitals, [{ sku, quantity: 1 }]);
    expect(await commit(capitals, [{ sku, quantity: 1 }])).toMatchObject({ committed: [{ sku, quantity: 1 }] });
    expect(await commit(plain, [{ sku, quantity: 2 }])).toMatchObject({ committed: [] });
    jest.restoreAllMocks();
    expect(await readStock(sku)).toMatchObject({ available: 4, committed: 6, holds: {} });
  });

  it('never commits a released hold: the units stay on the shelf', async () => {
    const sku = await newSku(5);
    const ids = newOrder();
    await reserve(ids, [{ sku, quantity: 2 }]);
    await release(ids, [{ sku, quantity: 2 }]);
    expect(await commit(ids, [{ sku, quantity: 2 }])).toMatchObject({ committed: [] });
    expect(await readStock(sku)).toMatchObject({ available: 5, committed: 0, holds: {} });
  });
});

describe('a reserve redelivered after its order completed', () => {
  it('takes nothing: the shelf and the sold units stay as the commit left them, no hold left', async () => {
    const [a, b] = await newSkus(10, 10);
    const ids = newOrder();
    const lines = [
      { sku: a, quantity: 2 },
      { sku: b, quantity: 3 },
    ];
    await reserve(ids, lines);
    await commit(ids, lines);
    const committed = await Promise.all([readStock(a), readStock(b)]);
    const late = await reserve(ids, lines);
    expect(late).toEqual({ type: factType('inventory', 'StockReserved'), ...ids, lines });
    expect(await Promise.all([readStock(a), readStock(b)])).toEqual(committed); // including _etag: nothing written
    expect(committed.map((stock) => [stock?.available, stock?.committed, stock?.holds])).toEqual([
      [8, 2, {}],
      [7, 3, {}],
    ]);
  });

  it('between the commit mark and its folds: the reserve answers held, and the retried commit folds once', async () => {
    const sku = await newSku(10);
    const ids = newOrder();
    const lines = [{ sku, quantity: 4 }];
    await reserve(ids, lines);
    // The commit marks the order sold, then stops before its fold lands (the database is busy).
    jest.spyOn(Item.prototype, 'patch').mockRejectedValueOnce(Object.assign(new Error('busy'), { code: 503 }));
    await expect(commit(ids, lines)).rejects.toMatchObject({ code: 503 });
    jest.restoreAllMocks();
    expect(await isOrderSold(ids.orderId)).toBe(true);
    expect(await levels(sku)).toEqual([{ available: 6, holds: { [ids.orderId]: 4 } }]);

    expect(await reserve(ids, lines)).toMatchObject({ type: factType('inventory', 'StockReserved') });
    expect(await levels(sku)).toEqual([{ available: 6, holds: { [ids.orderId]: 4 } }]);

    expect(await commit(ids, lines)).toMatchObject({ committed: [{ sku, quantity: 4 }] });
    expect(await reserve(ids, lines)).toMatchObject({ type: factType('inventory', 'StockReserved') });
    expect(await readStock(sku)).toMatchObject({ available: 6, committed: 4, holds: {} });
  });

  it('a repeated commit after a late reserve folds nothing twice', async () => {
    const sku = await newSku(10);
    const ids = newOrder();
    const lines = [{ sku, quantity: 3 }];
    await reserve(ids, lines);
    expect(await commit(ids, lines)).toMatchObject({ committed: lines });
    await reserve(ids, lines);
    expect(await commit(ids, lines)).toMatchObject({ committed: [] });
    expect(await readStock(sku)).toMatchObject({ available: 7, committed: 3, holds: {} });
  });

  it('leaves the units for a fresh order on the same sku', async () => {
    const sku = await newSku(4);
    const sold = newOrder();
    await reserve(sold, [{ sku, quantity: 2 }]);
    await commit(sold, [{ sku, quantity: 2 }]);
    await reserve(sold, [{ sku, quantity: 2 }]);
    const fresh = newOrder();
    expect(await reserve(fresh, [{ sku, quantity: 2 }])).toMatchObject({
      type: factType('inventory', 'StockReserved'),
    });
    expect(await readStock(sku)).toMatchObject({ available: 0, committed: 2, holds: { [fresh.orderId]: 2 } });
  });

  it('the mark is one document per order, written once however often the commit runs', async () => {
    const sku = await newSku(5);
    const ids = newOrder();
    await reserve(ids, [{ sku, quantity: 1 }]);
    expect(await isOrderSold(ids.orderId)).toBe(false);
    await commit(ids, [{ sku, quantity: 1 }]);
    const item = soldOrdersContainer().item(ids.orderId, ids.orderId);
    const { resource: first } = await item.read<SoldOrderDocument>();
    expect(first).toMatchObject({ id: ids.orderId, orderId: ids.orderId, skus: [sku] });
    await commit(ids, [{ sku, quantity: 1 }]);
    expect((await item.read<SoldOrderDocument>()).resource).toEqual(first);
    await markOrderSold(ids.orderId, ['OTHER']);
    expect((await item.read<SoldOrderDocument>()).resource).toEqual(first);
  });

  it('a fault other than a conflict while marking goes through, and no hold is folded before the mark', async () => {
    const sku = await newSku(5);
    const ids = newOrder();
    await reserve(ids, [{ sku, quantity: 1 }]);
    jest.spyOn(Items.prototype, 'create').mockRejectedValueOnce(Object.assign(new Error('busy'), { code: 503 }));
    await expect(commit(ids, [{ sku, quantity: 1 }])).rejects.toMatchObject({ code: 503 });
    expect(await readStock(sku)).toMatchObject({ available: 4, committed: 0, holds: { [ids.orderId]: 1 } });
    expect(await isOrderSold(ids.orderId)).toBe(false);
  });
});

describe('release tombstones', () => {
  it('refuse a late, redelivered reserve of a released order', async () => {
    const sku = await newSku(5);
    const ids = newOrder();
    await reserve(ids, [{ sku, quantity: 2 }]);
    await release(ids, [{ sku, quantity: 2 }]);
    const late = await reserve(ids, [{ sku, quantity: 2 }]);
    expect(late).toMatchObject({ type: factType('inventory', 'StockUnavailable'), sku, requested: 2 });
    const stock = await readStock(sku);
    expect(stock).toMatchObject({ available: 5, holds: {} });
    expect(Object.keys(stock!.released!)).toEqual([ids.orderId]);
  });

  it('also guard an order whose release ran before its reserve did (a reserve still in flight)', async () => {
    const sku = await newSku(5);
    const ids = newOrder();
    expect(await release(ids, [{ sku, quantity: 1 }])).toMatchObject({ released: [] });
    expect(await reserve(ids, [{ sku, quantity: 1 }])).toMatchObject({
      type: factType('inventory', 'StockUnavailable'),
    });
    expect(await readStock(sku)).toMatchObject({ available: 5, holds: {} });
  });

  it('are dropped once older than the retention, on the next write', async () => {
    const sku = await newSku(5);
    const old = newOrder();
    const longAgo = new Date(Date.now() - TOMBSTONE_RETENTION_MS - 60_000);
    await giveBackHold(sku, old.orderId, longAgo);
    expect(Object.keys((await readStock(sku))!.released!)).toEqual([old.orderId]);
    const recent = newOrder();
    await release(recent, [{ sku, quantity: 1 }]);
    expect(Object.keys((await readStock(sku))!.released!)).toEqual([recent.orderId]);
  });
});

describe('stock for the catalog and the seed script', () => {
  it('availableStock answers for every sku asked, 0 for unknown ones', async () => {
    const [a, b] = await newSkus(7, 0);
    const unknown = uniqueId('NO-SUCH-SKU');
    await reserve(newOrder(), [{ sku: a, quantity: 2 }]);
    expect(await availableStock([a, b, unknown])).toEqual({ [a]: 5, [b]: 0, [unknown]: 0 });
    expect(await availableStock([])).toEqual({});
  });

  it('seedStock keeps existing stock unless reset, which also clears holds', async () => {
    const sku = await newSku(5);
    await reserve(newOrder(), [{ sku, quantity: 1 }]);
    await seedStock([{ sku, available: 50 }]);
    expect((await readStock(sku))?.available).toBe(4);
    await seedStock([{ sku, available: 50 }], { reset: true });
    expect(await levels(sku)).toEqual([{ available: 50, holds: {} }]);
  });
});

describe('the inventory repository', () => {
  it('seedStock creates a sku with nothing sold, held or released', async () => {
    const sku = uniqueId('SKU');
    await seedStock([{ sku, available: 3 }]);
    expect(await readStock(sku)).toMatchObject({ id: sku, sku, available: 3, committed: 0, holds: {}, released: {} });
  });

  it('seedStock lets a fault other than a conflict through', async () => {
    const sku = uniqueId('SKU');
    jest.spyOn(Items.prototype, 'create').mockRejectedValueOnce(Object.assign(new Error('busy'), { code: 503 }));
    await expect(seedStock([{ sku, available: 3 }])).rejects.toMatchObject({ code: 503 });
    expect(await readStock(sku)).toBeUndefined();
  });

  it('changeStock answers what decide decided, writes what it asked, and never creates a sku', async () => {
    const sku = await newSku(5);
    expect(
      await changeStock(sku, (stock) => ({
        write: { ...stock!, available: stock!.available - 1 },
        result: 'took one',
      })),
    ).toBe('took one');
    expect((await readStock(sku))?.available).toBe(4);
    expect(await changeStock(sku, (stock) => ({ result: stock?.available }))).toBe(4);

    const unknown = uniqueId('NO-SUCH-SKU');
    expect(await changeStock(unknown, (stock) => ({ result: stock }))).toBeUndefined();
    const create = () =>
      changeStock(unknown, () => ({
        write: { id: unknown, sku: unknown, available: 1, holds: {} },
        result: 'created',
      }));
    await expect(create()).rejects.toThrow(`stock ${unknown}: cannot change a sku that does not exist`);
    expect(await readStock(unknown)).toBeUndefined();
  });
});
