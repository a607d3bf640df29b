/** The fault campaign's invariants can fire: each is shown a state that breaks it, and one that keeps it. */
import type { OrderDocument } from '../../src/services/orders/repository';
import type { LedgerEntry } from '../../src/services/payments/repository';
import { violationsOf, type SagaState } from './invariants';

const order = (orderId: string, status: OrderDocument['status'], total = 10) =>
  ({
    id: orderId,
    orderId,
    correlationId: 'c',
    status,
    total,
    currency: 'EUR',
    steps: [],
    compensations: [],
    warnings: [],
    revision: 1,
    updatedAt: '',
  }) as OrderDocument;
const charge = (orderId: string, amount: number) =>
  ({ orderId, operation: 'charge', status: 'charged', amount }) as unknown as LedgerEntry;

/** One Completed order and one Compensated order, as a correct saga leaves them. */
const consistent = (): SagaState => ({
  orders: [order('done', 'Completed'), order('undone', 'Compensated')],
  ledger: [charge('done', 10)],
  stock: [{ sku: 'SKU', available: 9, holds: { done: 1 } }],
  messages: [
    { orderId: 'done', kind: 'confirmation' },
    { orderId: 'undone', kind: 'confirmation' },
    { orderId: 'undone', kind: 'cancellation' },
  ],
  shipments: [
    { orderId: 'done', status: 'created' },
    { orderId: 'undone', status: 'cancelled' },
  ],
  parcels: [
    { orderId: 'done', status: 'booked' },
    { orderId: 'undone', status: 'cancelled' },
  ],
  mail: [
    { orderId: 'done', kind: 'confirmation' },
    { orderId: 'undone', kind: 'confirmation' },
    { orderId: 'undone', kind: 'cancellation' },
  ],
  deadLetters: new Map(),
});
const check = (state: SagaState) =>
  violationsOf(state, ['done', 'undone'], { SKU: 10 }).map(
    (violation) => `${violation.invariant}: ${violation.subject}`,
  );

it('a consistent state breaks nothing', () => {
  expect(check(consistent())).toEqual([]);
});

it('a Completed order without its shipment breaks "every Completed order has a created shipment"', () => {
  const state = consistent();
  state.shipments = state.shipments.filter((entry) => entry.orderId !== 'done');
  expect(check(state)).toEqual(['every Completed order has a created shipment: done']);
});

it('a shipment left created for an order that was undone breaks "no shipment for an order that is not Completed"', () => {
  const state = consistent();
  state.shipments = [
    { orderId: 'done', status: 'created' },
    { orderId: 'undone', status: 'created' },
  ];
  expect(check(state)).toEqual(['no shipment for an order that is not Completed: undone']);
});

it('a parcel left booked at the carrier for an undone order is a violation, whatever the shipments say', () => {
  const state = consistent();
  state.parcels[1] = { orderId: 'undone', status: 'booked' };
  expect(check(state)).toEqual(['no parcel booked at the carrier for an order that is not Completed: undone']);
});

it('mail the provider accepted is checked beside the messages recorded: a confirmation with no cancellation', () => {
  const state = consistent();
  state.mail = state.mail.filter((entry) => entry.kind !== 'cancellation');
  expect(check(state)).toEqual([
    'a customer mailed a confirmation of an order that is not Completed is mailed its cancellation: undone',
  ]);
  state.mail = [{ orderId: 'undone', kind: 'cancellation' }];
  expect(check(state)).toEqual(['a cancellation only where a confirmation was sent (mailed): undone']);
});

it('money kept for an undone order, or stock oversold, is a violation', () => {
  const state = consistent();
  state.ledger.push(charge('undone', 10));
  state.stock = [{ sku: 'SKU', available: 10, holds: { done: 1 } }];
  expect(check(state)).toEqual([
    'charged − refunded = total when Completed, else 0: undone',
    'initial stock = available + held or sold for Completed orders: SKU',
  ]);
});

it('a CompensationFailed order needs exactly one dead letter', () => {
  const state = consistent();
  state.orders[1] = order('undone', 'CompensationFailed');
  state.deadLetters.set('undone', 2);
  expect(check(state)).toContain('every CompensationFailed order has exactly one dead letter: undone');
});
