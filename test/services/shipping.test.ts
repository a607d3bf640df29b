/** The shipping context against the real local Cosmos server: one parcel per order, rejected addresses, cancellation. */
import { Item, Items } from '@azure/cosmos';
import { capturedFunctions } from '../../local/engine/functions-core';
import { TransientError } from '../../src/libs/errors';
import { factType, type CreateShipment } from '../../src/libs/events';
import { shippingActivities } from '../../src/services/shipping';
import { ShippingActivities } from '../../src/services/shipping/contract';
import { bookingKey, ShipmentAlreadyCancelled } from '../../src/services/shipping/create-shipment';
import {
  markCancelled,
  readCarrierBooking,
  recordFoundBooking,
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

/** Every create of a shipment document fails as a busy Cosmos would; the carrier's own records still work. */
function shipmentWritesFail() {
  const original = Items.prototype.create;
  return jest.spyOn(Items.prototype, 'create').mockImplementation(function (this: Items, ...args) {
    if (this.container.id === 'shipments') return Promise.reject(Object.assign(new Error('busy'), { code: 503 }));
    return original.apply(this, args) as never;
  });
}

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

describe('a booking still on its way when the undo runs', () => {
  it("calls back the parcel it booked once it finds the undo's tombstone, and answers the refusal", async () => {
    const command = shipmentFor();
    const book = carrier.book.bind(carrier);
    let trackingNumber: string | undefined;
    // The undo runs (a terminated saga's step still runs) after the booking left and before it came back.
    jest.spyOn(carrier, 'book').mockImplementationOnce(async (request) => {
      expect(await cancel(command)).toMatchObject({ wasCreated: false });
      const booked = await book(request);
      if (booked.kind === 'booked') trackingNumber = booked.trackingNumber;
      return booked;
    });
    expect(await create(command)).toMatchObject({
      type: factType('activities', 'ActivityDefect'),
      errorType: new ShipmentAlreadyCancelled(command.orderId).name,
    });
    jest.restoreAllMocks();
    expect(trackingNumber).toBeDefined();
    expect(await readCarrierBooking(trackingNumber!)).toMatchObject({ status: 'cancelled' });
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

  it('calls back a parcel the carrier booked when recording the shipment failed on every attempt, and says it did', async () => {
    const command = shipmentFor();
    const failing = shipmentWritesFail();
    for (let attempt = 1; attempt <= 4; attempt += 1)
      await expect(create(command)).rejects.toMatchObject({ code: 503 });
    failing.mockRestore();
    expect(await readShipment(command.orderId)).toBeUndefined();
    const found = await carrier.findBooking(bookingKey(command.orderId));
    expect(found).toEqual({ trackingNumber: expect.stringMatching(/^SP/), carrier: 'SimPost' });

    expect(await cancel(command)).toEqual({
      type: factType('shipping', 'ShipmentCancelled'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      wasCreated: true,
    });
    expect(await readCarrierBooking(found!.trackingNumber)).toMatchObject({ status: 'cancelled' });
    expect(await readShipment(command.orderId)).toMatchObject({
      status: 'cancelled',
      trackingNumber: found!.trackingNumber,
      carrier: 'SimPost',
    });
  });

  it('calls back an unrecorded parcel once when run twice: same fact, same documents, the carrier searched once', async () => {
    const command = shipmentFor();
    const booked = await carrier.book({
      idempotencyKey: bookingKey(command.orderId),
      address: command.address,
      lines: command.lines,
    });
    const trackingNumber = booked.kind === 'booked' ? booked.trackingNumber : 'unexpected';
    const search = jest.spyOn(carrier, 'findBooking');
    const first = await cancel(command);
    const shipment = await readShipment(command.orderId);
    const parcel = await readCarrierBooking(trackingNumber);
    expect(first).toMatchObject({ wasCreated: true });
    expect(parcel).toMatchObject({ status: 'cancelled', cancelledAt: expect.any(String) });

    expect(await cancel(command)).toEqual(first);
    expect(await readShipment(command.orderId)).toEqual(shipment);
    expect(await readCarrierBooking(trackingNumber)).toEqual(parcel);
    expect(search).toHaveBeenCalledTimes(1);
  });

  it("asks the carrier before saying nothing was shipped, and takes no other order's parcel for it", async () => {
    const command = shipmentFor();
    const other = shipmentFor();
    const otherParcel = (await create(other)) as { trackingNumber: string };
    const search = jest.spyOn(carrier, 'findBooking');
    expect(await cancel(command)).toMatchObject({ wasCreated: false });
    expect(search).toHaveBeenCalledWith(bookingKey(command.orderId));
    const tombstone = await readShipment(command.orderId);
    expect(tombstone).toMatchObject({ status: 'cancelled' });
    expect(tombstone?.trackingNumber).toBeUndefined();
    expect(await readCarrierBooking(otherParcel.trackingNumber)).toMatchObject({ status: 'booked' });
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
      message: `shipments ${orderId} conflicted on create but cannot be read`,
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

  it('recordFoundBooking puts a found parcel on a tombstone once; a booking already recorded stands', async () => {
    const { orderId } = newOrder();
    await markCancelled(orderId, new Date('2026-01-02T00:00:00.000Z'));
    const adopted = await recordFoundBooking(orderId, { trackingNumber: 'T-1', carrier: 'sim' });
    expect(adopted).toMatchObject({ status: 'cancelled', trackingNumber: 'T-1', carrier: 'sim' });
    expect(await recordFoundBooking(orderId, { trackingNumber: 'T-2', carrier: 'sim' })).toMatchObject({
      trackingNumber: 'T-1',
    });
    const shipped = newOrder().orderId;
    await recordShipment(shipped, booked('T-3'));
    await expect(recordFoundBooking(shipped, { trackingNumber: 'T-4', carrier: 'sim' })).rejects.toThrow(
      'no cancelled shipment',
    );
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

describe('the simulated carrier', () => {
  const request = (orderId: string, postalCode = '10115') => ({
    idempotencyKey: bookingKey(orderId),
    address: { line1: '1 Main St', city: 'Berlin', postalCode, country: 'DE' },
    lines: [{ sku: 'MOUSE-ERGO', quantity: 2 }],
  });

  it('remembers each parcel it booked, found by the key it was booked under', async () => {
    const { orderId } = newOrder();
    expect(await carrier.findBooking(bookingKey(orderId))).toBeUndefined();
    const booked = await carrier.book(request(orderId));
    expect(await carrier.book(request(orderId))).toEqual(booked);
    const trackingNumber = booked.kind === 'booked' ? booked.trackingNumber : 'unexpected';
    expect(await carrier.findBooking(bookingKey(orderId))).toEqual({ trackingNumber, carrier: 'SimPost' });
    expect(await readCarrierBooking(trackingNumber)).toMatchObject({
      reference: bookingKey(orderId),
      status: 'booked',
    });
  });

  it('calls a parcel back once: a repeat keeps the first cancellation, an unknown parcel is shrugged off', async () => {
    const { orderId } = newOrder();
    const booked = await carrier.book(request(orderId));
    const trackingNumber = booked.kind === 'booked' ? booked.trackingNumber : 'unexpected';
    await carrier.cancel(trackingNumber);
    const cancelled = await readCarrierBooking(trackingNumber);
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelledAt: expect.any(String) });
    await carrier.cancel(trackingNumber);
    expect(await readCarrierBooking(trackingNumber)).toEqual(cancelled);
    // Found after the call-back too: the booking happened.
    expect(await carrier.findBooking(bookingKey(orderId))).toEqual({ trackingNumber, carrier: 'SimPost' });
    await expect(carrier.cancel('SP-NO-SUCH-PARCEL')).resolves.toBeUndefined();
    expect(await readCarrierBooking('SP-NO-SUCH-PARCEL')).toBeUndefined();
  });

  it('books nothing for an address it rejects', async () => {
    const { orderId } = newOrder();
    expect(await carrier.book(request(orderId, '00000'))).toMatchObject({ kind: 'rejected' });
    expect(await carrier.findBooking(bookingKey(orderId))).toBeUndefined();
  });
});
