/** The analytics context against the real local Cosmos server: record, retract, tombstones, the sink being down. */
import { Item, Items } from '@azure/cosmos';
import { capturedFunctions } from '../../local/engine/functions-core';
import { TransientError } from '../../src/libs/errors';
import { factType, type RecordOrder } from '../../src/libs/events';
import { analyticsActivities } from '../../src/services/analytics';
import { AnalyticsActivities } from '../../src/services/analytics/contract';
import {
  analyticsData,
  readFact,
  recordFact,
  retractFact,
  type OrderSale,
} from '../../src/services/analytics/repository';
import { invocation, newOrder } from './helpers';

const { recordOrderFact, retractOrderFact } = analyticsActivities;

beforeAll(async () => {
  await analyticsData.ensureCreated();
});

afterEach(() => {
  jest.restoreAllMocks();
});

const recordFor = (customerId = 'ada'): RecordOrder => ({
  ...newOrder(),
  customerId,
  total: 159,
  currency: 'EUR',
  lines: [{ sku: 'MOUSE-ERGO', name: 'Ergonomic mouse', quantity: 2, unitPrice: 79.5, lineTotal: 159 }],
});
const record = (command: RecordOrder) => recordOrderFact(command, invocation(AnalyticsActivities.record));
const retract = (ids: { orderId: string; correlationId: string }) =>
  retractOrderFact({ orderId: ids.orderId, correlationId: ids.correlationId }, invocation(AnalyticsActivities.retract));

describe('analytics context', () => {
  it('registers its activities under the names of its contract', () => {
    expect(AnalyticsActivities).toEqual({ record: 'recordOrderFact', retract: 'retractOrderFact' });
    expect(capturedFunctions().has('recordOrderFact')).toBe(true);
    expect(capturedFunctions().has('retractOrderFact')).toBe(true);
  });
});

describe('recordOrderFact', () => {
  it('records the order fact', async () => {
    const command = recordFor();
    expect(await record(command)).toEqual({
      type: factType('analytics', 'OrderRecorded'),
      orderId: command.orderId,
      correlationId: command.correlationId,
    });
    expect(await readFact(command.orderId)).toMatchObject({
      id: command.orderId,
      status: 'recorded',
      customerId: 'ada',
      total: 159,
      currency: 'EUR',
      lines: command.lines,
      recordedAt: expect.any(String),
    });
  });

  it('records once when run twice: same fact, document untouched by the repeat', async () => {
    const command = recordFor();
    const first = await record(command);
    const afterFirst = await readFact(command.orderId);
    expect(await record(command)).toEqual(first);
    expect(await readFact(command.orderId)).toEqual(afterFirst);
  });

  it('fails transiently on every attempt while the sink is down (customer analytics-down), recording nothing', async () => {
    const command = recordFor('analytics-down');
    for (let attempt = 0; attempt < 3; attempt += 1)
      await expect(record(command)).rejects.toBeInstanceOf(TransientError);
    expect(await readFact(command.orderId)).toBeUndefined();
  });

  it('does not resurrect a retracted fact when a late duplicate arrives', async () => {
    const command = recordFor();
    await record(command);
    await retract(command);
    const retracted = await readFact(command.orderId);
    expect(await record(command)).toMatchObject({ type: factType('analytics', 'OrderRecorded') });
    expect(await readFact(command.orderId)).toEqual(retracted);
    expect(retracted?.status).toBe('retracted');
  });
});

describe('retractOrderFact', () => {
  it('retracts a recorded fact once when run twice: same fact, same document', async () => {
    const command = recordFor();
    await record(command);
    const first = await retract(command);
    expect(first).toEqual({
      type: factType('analytics', 'OrderRetracted'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      wasRecorded: true,
    });
    const afterFirst = await readFact(command.orderId);
    expect(afterFirst).toMatchObject({
      status: 'retracted',
      total: 159,
      recordedAt: expect.any(String),
      retractedAt: expect.any(String),
    });
    expect(await retract(command)).toEqual(first);
    expect(await readFact(command.orderId)).toEqual(afterFirst);
  });

  it('leaves a tombstone for an order never recorded, so a late record cannot bring it back', async () => {
    const command = recordFor();
    const first = await retract(command);
    expect(first).toMatchObject({ wasRecorded: false });
    const tombstone = await readFact(command.orderId);
    expect(tombstone).toMatchObject({ status: 'retracted', retractedAt: expect.any(String) });
    expect(tombstone?.recordedAt).toBeUndefined();
    expect(await retract(command)).toEqual(first);
    await record(command);
    expect(await readFact(command.orderId)).toEqual(tombstone);
  });

  it('ends retracted whichever of a racing record and retract wins', async () => {
    const command = recordFor();
    const [, retracted] = await Promise.all([record(command), retract(command)]);
    const stored = await readFact(command.orderId);
    expect(stored?.status).toBe('retracted');
    expect(retracted).toMatchObject({ wasRecorded: stored?.recordedAt !== undefined });
  });
});

describe('the analytics repository', () => {
  const sale = (): OrderSale => ({
    orderId: newOrder().orderId,
    customerId: 'ada',
    total: 20,
    currency: 'EUR',
    lines: [],
  });
  const at = new Date('2026-01-01T00:00:00.000Z');
  const nothingStored = () => ({ resource: undefined }) as Awaited<ReturnType<Item['read']>>;

  it('recordFact creates with one request and no read; a repeat or a rival answers the fact the 409 points to', async () => {
    const first = sale();
    const read = jest.spyOn(Item.prototype, 'read');
    const create = jest.spyOn(Items.prototype, 'create');
    await recordFact(first, at);
    expect([create.mock.calls.length, read.mock.calls.length]).toEqual([1, 0]);
    // A repeat, or a rival's create that landed first: the stored fact stands, its sale unchanged.
    expect(await recordFact({ ...first, total: 999 }, new Date())).toMatchObject({
      status: 'recorded',
      total: 20,
      recordedAt: at.toISOString(),
    });
    expect([create.mock.calls.length, read.mock.calls.length]).toEqual([2, 1]);
  });

  it('recordFact lets a fault other than a conflict through, and fails when the conflicting fact cannot be read', async () => {
    const first = sale();
    jest.spyOn(Items.prototype, 'create').mockRejectedValueOnce(Object.assign(new Error('busy'), { code: 503 }));
    await expect(recordFact(first, at)).rejects.toMatchObject({ code: 503 });
    expect(await readFact(first.orderId)).toBeUndefined();
    await recordFact(first, at);
    jest.spyOn(Item.prototype, 'read').mockResolvedValueOnce(nothingStored()).mockResolvedValueOnce(nothingStored());
    await expect(recordFact(first, at)).rejects.toMatchObject({
      message: `facts ${first.orderId} conflicted on create but cannot be read`,
      cause: expect.objectContaining({ code: 409 }),
    });
  });

  it('retractFact keeps the sale on the retracted fact and answers wasRecorded from what is stored', async () => {
    const first = sale();
    await recordFact(first, at);
    const later = new Date('2026-01-02T00:00:00.000Z');
    expect(await retractFact(first.orderId, later)).toEqual({ wasRecorded: true });
    expect(await readFact(first.orderId)).toMatchObject({
      ...first,
      id: first.orderId,
      status: 'retracted',
      recordedAt: at.toISOString(),
      retractedAt: later.toISOString(),
    });
    expect(await retractFact(first.orderId, new Date())).toEqual({ wasRecorded: true });
    expect((await readFact(first.orderId))?.retractedAt).toBe(later.toISOString());

    const never = sale().orderId;
    expect(await retractFact(never, later)).toEqual({ wasRecorded: false });
    expect(await readFact(never)).toMatchObject({
      id: never,
      orderId: never,
      status: 'retracted',
      retractedAt: later.toISOString(),
    });
  });
});
