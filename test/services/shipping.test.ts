/** The shipping context against the real local Cosmos server: one parcel per order, rejected addresses, cancellation. */
import { Item, Items } from '@azure/cosmos';
import { capturedFunctions } from '../../local/engine/functions-core';
import { TransientError } from '../../src/libs/errors';
import { factType, type CreateShipment } from '../../src/libs/events';
import { shippingActivities } from '../../src/services/shipping';
import { ShippingActivities } from '../../src/services/shipping/contract';
import { ShipmentAlreadyCancelled } from '../../src/services/shipping/create-shipment';
import {
  markCancelled,
  readShipment,
  recordShipment,
  shippingData,
  type BookedShipment,
} from '../../src/services/shipping/repository';
import { simulatedCarrier as carrier } from '../../src/services/shipping/simulated-carrier';
import { invocation, newOrder } from './helpers';

const { createShipment, cancelShipment } = shippingActivities;

beforeAll(async () => {
  await shippingData.ensureCreated();
});

afterEach(() => {
  jest.restoreAllMocks();
});

const shipmentFor = (postalCode = '10115'): CreateShipment => ({
  ...newOrder(),
  address: { line1: '1 Main St', city: 'Berlin', postalCode, country: 'DE' },
  lines: [{ sku: 'MOUSE-ERGO', quantity: 2 }],
});
const create = (command: CreateShipment) => createShipment(command, invocation(ShippingActivities.create));
const cancel = (ids: { orderId: string; correlationId: string }) =>
  cancelShipment({ orderId: ids.orderId, correlationId: ids.correlationId }, invocation(ShippingActivities.cancel));

describe('shipping context', () => {
  it('registers its activities under the names of its contract', () => {
    expect(ShippingActivities).toEqual({ create: 'createShipment', cancel: 'cancelShipment' });
    expect(capturedFunctions().has('createShipment')).toBe(true);
    expect(capturedFunctions().has('cancelShipment')).toBe(true);
  });
});

describe('createShipment', () => {
  it('books a parcel and records the shipment', async () => {
    const command = shipmentFor();
    const fact = await create(command);
    expect(fact).toEqual({
      type: factType('shipping', 'ShipmentCreated'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      trackingNumber: expect.stringMatching(/^SP[0-9A-F]{16}$/),
      carrier: 'SimPost',
    });
    expect(await readShipment(command.orderId)).toMatchObject({
      status: 'created',
      trackingNumber: (fact as { trackingNumber: string }).trackingNumber,
      address: command.address,
      lines: command.lines,
    });
  });

  it('books once when run twice: same fact, same document, the carrier not asked again', async () => {
    const command = shipmentFor();
    const book = jest.spyOn(carrier, 'book');
    const first = await create(command);
    const afterFirst = await readShipment(command.orderId);
    expect(await create(command)).toEqual(first);
    expect(await readShipment(command.orderId)).toEqual(afterFirst);
    expect(book).toHaveBeenCalledTimes(1);
  });

  it('gets the same tracking number when a run crashed after booking (the carrier key is the order)', async () => {
    const command = shipmentFor();
    const booked = await carrier.book({
      idempotencyKey: `${command.orderId}:shipment`,
      address: command.address,
      lines: command.lines,
    });
    expect(await create(command)).toMatchObject({
      trackingNumber: booked.kind === 'booked' ? booked.trackingNumber : 'unexpected',
    });
  });

  it('gives different orders different tracking numbers', async () => {
    const [a, b] = await Promise.all([create(shipmentFor()), create(shipmentFor())]);
    expect((a as { trackingNumber: string }).trackingNumber).not.toBe((b as { trackingNumber: string }).trackingNumber);
  });

  it('answers AddressRejected for postal code 00000, records nothing, and says the same on a repeat', async () => {
    const command = shipmentFor('00000');
    const fact = await create(command);
    expect(fact).toEqual({
      type: factType('shipping', 'AddressRejected'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      reason: expect.stringContaining('00000'),
    });
    expect(await create(command)).toEqual(fact);
    expect(await readShipment(command.orderId)).toBeUndefined();
  });

  it('refuses to ship an order whose shipment was cancelled, as an error that is not transient', async () => {
    const command = shipmentFor();
    await create(command);
    await cancel(command);
    const cancelled = await readShipment(command.orderId);
    // A defect: answered at once, never thrown, so the host does not retry it.
    expect(await create(command)).toMatchObject({
      type: factType('activities', 'ActivityDefect'),
      activity: 'createShipment',
      errorType: new ShipmentAlreadyCancelled(command.orderId).name,
    });
    expect(await readShipment(command.orderId)).toEqual(cancelled);
  });
});

describe('cancelShipment', () => {
  it('cancels a created shipment once when run twice: same fact, same document', async () => {
    const command = shipmentFor();
    const created = await create(command);
    const first = await cancel(command);
    expect(first).toEqual({
      type: factType('shipping', 'ShipmentCancelled'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      wasCreated: true,
    });
    const afterFirst = await readShipment(command.orderId);
    expect(afterFirst).toMatchObject({
      status: 'cancelled',
      trackingNumber: (created as { trackingNumber: string }).trackingNumber,
      cancelledAt: expect.any(String),
    });
    expect(await cancel(command)).toEqual(first);
    expect(await readShipment(command.orderId)).toEqual(afterFirst);
  });

  it('tells the carrier on every run, so a run that failed after marking the document still calls the parcel back', async () => {
    const command = shipmentFor();
    await create(command);
    const callBack = jest.spyOn(carrier, 'cancel').mockRejectedValueOnce(new TransientError('carrier timed out'));
    await expect(cancel(command)).rejects.toBeInstanceOf(TransientError);
    expect(await cancel(command)).toMatchObject({ wasCreated: true });
    expect(callBack).toHaveBeenCalledTimes(2);
  });

  it('leaves a tombstone when nothing was shipped, so a late create cannot ship', async () => {
    const command = shipmentFor();
    const first = await cancel(command);
    expect(first).toMatchObject({ wasCreated: false });
    const tombstone = await readShipment(command.orderId);
    expect(tombstone).toMatchObject({ status: 'cancelled' });
    expect(tombstone?.trackingNumber).toBeUndefined();
    expect(await cancel(command)).toEqual(first);
    expect(await readShipment(command.orderId)).toEqual(tombstone);
    expect(await create(command)).toMatchObject({
      type: factType('activities', 'ActivityDefect'),
      errorType: 'ShipmentAlreadyCancelled',
    });
  });
});

describe('the shipping repository', () => {
  const booked = (trackingNumber: string): BookedShipment => ({
    trackingNumber,
    carrier: 'sim',
    address: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
    lines: [{ sku: 'MOUSE-ERGO', quantity: 2 }],
    createdAt: '2026-01-01T00:00:00.000Z',
  });

  it('recordShipment stores the booking once; a second booking answers the first', async () => {
    const { orderId } = newOrder();
    const first = await recordShipment(orderId, booked('T-1'));
    expect(first).toEqual({ id: orderId, orderId, status: 'created', ...booked('T-1') });
    expect(await recordShipment(orderId, booked('T-2'))).toMatchObject({ status: 'created', trackingNumber: 'T-1' });
    expect(await readShipment(orderId)).toMatchObject(first);
  });

  it('recordShipment lets a fault other than a conflict through, and fails when the conflicting shipment cannot be read', async () => {
    const { orderId } = newOrder();
    jest.spyOn(Items.prototype, 'create').mockRejectedValueOnce(Object.assign(new Error('busy'), { code: 503 }));
    await expect(recordShipment(orderId, booked('T-1'))).rejects.toMatchObject({ code: 503 });
    expect(await readShipment(orderId)).toBeUndefined();
    await recordShipment(orderId, booked('T-1'));
    jest
      .spyOn(Item.prototype, 'read')
      .mockResolvedValueOnce({ resource: undefined } as Awaited<ReturnType<Item['read']>>);
    await expect(recordShipment(orderId, booked('T-2'))).rejects.toMatchObject({
      message: `shipment ${orderId} conflicted on create but cannot be read`,
      cause: expect.objectContaining({ code: 409 }),
    });
  });

  it('markCancelled keeps the booking on the cancelled document, and a repeat changes nothing', async () => {
    const { orderId } = newOrder();
    await recordShipment(orderId, booked('T-1'));
    const at = new Date('2026-01-02T00:00:00.000Z');
    const expected = { id: orderId, orderId, status: 'cancelled', cancelledAt: at.toISOString(), ...booked('T-1') };
    expect(await markCancelled(orderId, at)).toEqual(expected);
    expect(await markCancelled(orderId, new Date('2026-01-03T00:00:00.000Z'))).toMatchObject(expected);
    expect(await readShipment(orderId)).toMatchObject(expected);
  });

  it('markCancelled leaves a tombstone, with no booking, for an order never shipped', async () => {
    const { orderId } = newOrder();
    const at = new Date('2026-01-02T00:00:00.000Z');
    expect(await markCancelled(orderId, at)).toEqual({
      id: orderId,
      orderId,
      status: 'cancelled',
      cancelledAt: at.toISOString(),
    });
    expect(await recordShipment(orderId, booked('T-1'))).toMatchObject({
      status: 'cancelled',
      cancelledAt: at.toISOString(),
    });
  });
});
