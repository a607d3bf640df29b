/** The shipping context against the real local Cosmos server: one parcel per order, rejected addresses, cancellation. */
import { capturedFunctions } from '../../local/engine/functions-core';
import { TransientError } from '../../src/libs/errors';
import { factType, type CreateShipment } from '../../src/libs/events';
import { shippingActivities } from '../../src/services/shipping';
import { ShippingActivities } from '../../src/services/shipping/contract';
import { ShipmentAlreadyCancelled } from '../../src/services/shipping/create-shipment';
import { readShipment, shippingData } from '../../src/services/shipping/repository';
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
    const booked = await carrier.book({ idempotencyKey: `${command.orderId}:shipment`, address: command.address, lines: command.lines });
    expect(await create(command)).toMatchObject({ trackingNumber: booked.kind === 'booked' ? booked.trackingNumber : 'unexpected' });
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
    expect(await create(command)).toMatchObject({ type: factType('activities', 'ActivityDefect'), activity: 'createShipment', errorType: new ShipmentAlreadyCancelled(command.orderId).name });
    expect(await readShipment(command.orderId)).toEqual(cancelled);
  });
});

describe('cancelShipment', () => {
  it('cancels a created shipment once when run twice: same fact, same document', async () => {
    const command = shipmentFor();
    const created = await create(command);
    const first = await cancel(command);
    expect(first).toEqual({ type: factType('shipping', 'ShipmentCancelled'), orderId: command.orderId, correlationId: command.correlationId, wasCreated: true });
    const afterFirst = await readShipment(command.orderId);
    expect(afterFirst).toMatchObject({ status: 'cancelled', trackingNumber: (created as { trackingNumber: string }).trackingNumber, cancelledAt: expect.any(String) });
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
    expect(await create(command)).toMatchObject({ type: factType('activities', 'ActivityDefect'), errorType: 'ShipmentAlreadyCancelled' });
  });
});
