/**
 * Every activity the saga calls gets a command its context accepts (the context's own schema in
 * src/libs/events.ts), for this order's ids and items: on the good path and while undoing.
 */
import type { z } from 'zod';
import {
  CancelShipment,
  ChargePayment,
  CommitStock,
  CreateShipment,
  RecordOrder,
  RefundPayment,
  ReleaseStock,
  ReserveStock,
  RetractOrder,
  SendCancellation,
  SendConfirmation,
} from '../../src/libs/events';
import { failing, ids, placeOrderInput, startStubbedSaga, type StubbedSaga } from '../support/stubbed-saga';

const schemas: Record<string, z.ZodType> = {
  chargePayment: ChargePayment,
  reserveStock: ReserveStock,
  sendConfirmation: SendConfirmation,
  recordOrderFact: RecordOrder,
  createShipment: CreateShipment,
  commitStock: CommitStock,
  refundPayment: RefundPayment,
  releaseStock: ReleaseStock,
  sendCancellation: SendCancellation,
  retractOrderFact: RetractOrder,
  cancelShipment: CancelShipment,
};

let saga: StubbedSaga | undefined;
afterEach(async () => {
  await saga?.stop();
  saga = undefined;
});

function expectCommands(names: string[]) {
  const { order } = placeOrderInput();
  for (const name of names) {
    const inputs = saga!.callsTo(name);
    expect({ name, calls: inputs.length }).toEqual({ name, calls: 1 });
    const command = schemas[name].parse(inputs[0]) as {
      orderId: string;
      correlationId: string;
      lines?: { sku: string; quantity: number }[];
    };
    expect(command).toMatchObject(ids);
    if (command.lines) expect(command.lines.map(({ sku, quantity }) => ({ sku, quantity }))).toEqual(order.items);
  }
}

it('sends each step a well-formed command for the order', async () => {
  saga = await startStubbedSaga();
  await saga.run();
  expectCommands([
    'chargePayment',
    'reserveStock',
    'sendConfirmation',
    'recordOrderFact',
    'createShipment',
    'commitStock',
  ]);
  expect(saga.callsTo('sendConfirmation')[0]).toMatchObject({
    customerEmail: 'ada@example.com',
    total: 400,
    currency: 'EUR',
  });
  expect(saga.callsTo('recordOrderFact')[0]).toMatchObject({ customerId: 'ada', total: 400, currency: 'EUR' });
  // How the order ended, for whoever listens: enough to build the OrderCompleted fact.
  expect(saga.callsTo('publishOrderOutcome')).toEqual([
    expect.objectContaining({
      ...ids,
      customerId: 'ada',
      status: 'Completed',
      total: 400,
      currency: 'EUR',
      at: expect.any(String),
    }),
  ]);
});

it('sends each compensation a well-formed command for the order', async () => {
  // A carrier down past every retry may have booked: its undo runs with the others.
  saga = await startStubbedSaga({ createShipment: failing('carrier down') });
  const view = await saga.run();
  expect(view.status).toBe('Compensated');
  expectCommands(['refundPayment', 'releaseStock', 'sendCancellation', 'retractOrderFact', 'cancelShipment']);
  // The customer reads the reason: never empty.
  expect(saga.callsTo('sendCancellation')[0]).toMatchObject({
    customerEmail: 'ada@example.com',
    reason: expect.stringMatching(/\S/),
  });
});
