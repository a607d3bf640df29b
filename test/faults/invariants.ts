/**
 * The invariants a saga must keep whatever fails, checked over every context's database and the
 * dead-letter queue once all orders have settled. Each returns the orders (or SKUs) that break it.
 */
import { decodeMessage, queueClient } from '../../src/libs/storage-queues';
import { sumAmounts } from '../../src/libs/money';
import { inventoryData } from '../../src/services/inventory/repository';
import { notificationsData, type MailerLogEntry } from '../../src/services/notifications/repository';
import type { DeadLetter } from '../../src/services/orders/dead-letters';
import { isFinal } from '../../src/services/orders/order-view';
import { ordersData, type OrderDocument } from '../../src/services/orders/repository';
import { paymentsData, type LedgerEntry } from '../../src/services/payments/repository';
import { shippingData, type CarrierBooking } from '../../src/services/shipping/repository';

export interface Violation {
  invariant: string;
  subject: string;
  detail: string;
}

async function all<T>(container: {
  items: { query<R>(q: string): { fetchAll(): Promise<{ resources: R[] }> } };
}): Promise<T[]> {
  return (await container.items.query<T>('SELECT * FROM c').fetchAll()).resources;
}

/**
 * Counts every message on the queue by order. Peeking sees only 32, so messages are received
 * (hidden while counting, so none is counted twice) and then made visible again.
 */
async function deadLettersByOrder(): Promise<Map<string, number>> {
  const queue = queueClient(process.env.DEAD_LETTER_QUEUE ?? 'order-dead-letters');
  const counts = new Map<string, number>();
  const hidden: { messageId: string; popReceipt: string }[] = [];
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 120 });
    if (receivedMessageItems.length === 0) break;
    for (const item of receivedMessageItems) {
      const { orderId } = decodeMessage<DeadLetter>(item.messageText);
      counts.set(orderId, (counts.get(orderId) ?? 0) + 1);
      hidden.push(item);
    }
  }
  await Promise.all(hidden.map((item) => queue.updateMessage(item.messageId, item.popReceipt, undefined, 0)));
  return counts;
}

/** What the invariants are checked over: every context's documents and the dead-letter queue. */
export interface SagaState {
  orders: OrderDocument[];
  ledger: LedgerEntry[];
  stock: { sku: string; available: number; holds: Record<string, number>; committed?: number }[];
  messages: { orderId: string; kind: string }[];
  shipments: { orderId: string; status: string }[];
  /** What the simulated providers did, whatever the contexts recorded: parcels booked, mail accepted. */
  parcels: { orderId: string; status: string }[];
  mail: { orderId: string; kind: string }[];
  deadLetters: Map<string, number>;
}

/** The order id a provider's key (`<orderId>:<step or kind>`) was made from, and what follows it. */
const splitKey = (key: string) => {
  const at = key.lastIndexOf(':');
  return { orderId: key.slice(0, at), suffix: key.slice(at + 1) };
};

export async function readSagaState(): Promise<SagaState> {
  const [orders, ledger, stock, messages, shipments, bookings, mailerLog, deadLetters] = await Promise.all([
    all<OrderDocument>(ordersData.container('orders')),
    all<LedgerEntry>(paymentsData.container('gatewayLedger')),
    all<SagaState['stock'][number]>(inventoryData.container('stock')),
    all<SagaState['messages'][number]>(notificationsData.container('messages')),
    all<SagaState['shipments'][number]>(shippingData.container('shipments')),
    all<CarrierBooking>(shippingData.container('carrierBookings')),
    all<MailerLogEntry>(notificationsData.container('mailerLog')),
    deadLettersByOrder(),
  ]);
  const parcels = bookings.map((booking) => ({ orderId: splitKey(booking.reference).orderId, status: booking.status }));
  const mail = mailerLog.map((entry) => {
    const { orderId, suffix } = splitKey(entry.id);
    return { orderId, kind: suffix };
  });
  return { orders, ledger, stock, messages, shipments, parcels, mail, deadLetters };
}

/**
 * `awaitingRepair`: a CompensationFailed order is, by definition, one whose money or stock a
 * compensation could not give back yet; its guarantee is its dead letter. Before the operator's
 * repair such orders are exempt from the money and stock invariants; after it, nobody is.
 */
export async function checkInvariants(
  placedOrderIds: readonly string[],
  initialStock: Record<string, number>,
  options: { awaitingRepair?: boolean } = {},
): Promise<Violation[]> {
  return violationsOf(await readSagaState(), placedOrderIds, initialStock, options);
}

export function violationsOf(
  { orders, ledger, stock, messages, shipments, parcels, mail, deadLetters }: SagaState,
  placedOrderIds: readonly string[],
  initialStock: Record<string, number>,
  { awaitingRepair = false } = {},
): Violation[] {
  const violations: Violation[] = [];
  const fail = (invariant: string, subject: string, detail: string) => violations.push({ invariant, subject, detail });
  const orderById = new Map(orders.map((order) => [order.orderId, order]));
  const completed = (orderId: string) => orderById.get(orderId)?.status === 'Completed';
  const exempt = (orderId: string) => awaitingRepair && orderById.get(orderId)?.status === 'CompensationFailed';

  for (const orderId of placedOrderIds) {
    const order = orderById.get(orderId);
    if (!order || !isFinal(order.status))
      fail('every order has a final status', orderId, order ? order.status : 'no order document');
  }

  const moved = new Map<string, { charged: number[]; refunded: number[] }>();
  for (const entry of ledger) {
    if (entry.status !== 'charged' && entry.status !== 'refunded') continue;
    const money = moved.get(entry.orderId) ?? { charged: [], refunded: [] };
    (entry.operation === 'charge' ? money.charged : money.refunded).push(entry.amount);
    moved.set(entry.orderId, money);
  }
  for (const orderId of placedOrderIds) {
    const money = moved.get(orderId) ?? { charged: [], refunded: [] };
    const kept = sumAmounts([...money.charged, ...money.refunded.map((amount) => -amount)]);
    const expected = completed(orderId) ? (orderById.get(orderId)?.total ?? NaN) : 0;
    if (kept !== expected && !exempt(orderId))
      fail(
        'charged − refunded = total when Completed, else 0',
        orderId,
        `kept ${kept}, expected ${expected} (${orderById.get(orderId)?.status})`,
      );
  }

  for (const item of stock) {
    if (!(item.sku in initialStock)) continue;
    const heldByCompleted = Object.entries(item.holds ?? {})
      .filter(([orderId]) => completed(orderId) || exempt(orderId))
      .reduce((sum, [, quantity]) => sum + quantity, 0);
    const sold = item.committed ?? 0;
    if (initialStock[item.sku] !== item.available + heldByCompleted + sold) {
      fail(
        'initial stock = available + held or sold for Completed orders',
        item.sku,
        `${initialStock[item.sku]} ≠ ${item.available} + ${heldByCompleted} + ${sold}`,
      );
    }
    for (const orderId of Object.keys(item.holds ?? {})) {
      if (!completed(orderId) && !exempt(orderId))
        fail(
          'no reservation held by an order that is not Completed',
          orderId,
          `holds ${item.sku} (${orderById.get(orderId)?.status})`,
        );
    }
  }

  // Shipment ids are order ids, so "at most one per order" holds by construction; what can break
  // is the match between shipments and outcomes: a created shipment exactly for the Completed orders.
  const shipped = new Set(shipments.filter((entry) => entry.status === 'created').map((entry) => entry.orderId));
  for (const orderId of shipped) {
    if (!completed(orderId))
      fail('no shipment for an order that is not Completed', orderId, `${orderById.get(orderId)?.status}`);
  }
  for (const orderId of placedOrderIds) {
    if (completed(orderId) && !shipped.has(orderId))
      fail('every Completed order has a created shipment', orderId, 'no shipment');
  }

  // What the carrier holds, whatever the shipments say: a parcel booked is a parcel that ships.
  for (const parcel of parcels) {
    if (parcel.status === 'booked' && !completed(parcel.orderId) && !exempt(parcel.orderId))
      fail(
        'no parcel booked at the carrier for an order that is not Completed',
        parcel.orderId,
        `${orderById.get(parcel.orderId)?.status}`,
      );
  }

  const kindsByOrder = (sent: readonly { orderId: string; kind: string }[]) => {
    const kinds = new Map<string, Set<string>>();
    for (const message of sent) kinds.set(message.orderId, (kinds.get(message.orderId) ?? new Set()).add(message.kind));
    return kinds;
  };
  // On the messages recorded and on the mail the provider accepted, which a failed write can tell apart.
  for (const [sent, source] of [
    [messages, 'recorded'],
    [mail, 'mailed'],
  ] as const) {
    for (const [orderId, kinds] of kindsByOrder(sent)) {
      if (kinds.has('cancellation') && !kinds.has('confirmation'))
        fail(
          `a cancellation only where a confirmation was sent (${source})`,
          orderId,
          'cancellation without confirmation',
        );
    }
  }
  for (const [orderId, kinds] of kindsByOrder(mail)) {
    if (kinds.has('confirmation') && !kinds.has('cancellation') && !completed(orderId) && !exempt(orderId))
      fail(
        'a customer mailed a confirmation of an order that is not Completed is mailed its cancellation',
        orderId,
        `${orderById.get(orderId)?.status}`,
      );
  }

  for (const order of orders.filter((entry) => placedOrderIds.includes(entry.orderId))) {
    const letters = deadLetters.get(order.orderId) ?? 0;
    if (order.status === 'CompensationFailed' && letters !== 1)
      fail('every CompensationFailed order has exactly one dead letter', order.orderId, `${letters} dead letters`);
    if (order.status !== 'CompensationFailed' && letters > 0 && order.deadLetter?.state !== 'resolved') {
      fail(
        'a dead letter stays open only while its order is CompensationFailed',
        order.orderId,
        `${letters} for a ${order.status} order`,
      );
    }
  }
  return violations;
}
