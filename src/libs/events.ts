/**
 * The saga's messages, one versioned schema each. Commands are what the orchestrator asks a
 * context to do; facts are what happened, named in the past tense and versioned
 * (`contoso.payments.PaymentCharged.v1`) so a consumer can tell a changed shape from an old one.
 * Every message carries the order id and the correlation id.
 */
import * as z from 'zod';

const NAMESPACE = 'contoso';
export const factType = <C extends string, N extends string>(context: C, name: N) =>
  `${NAMESPACE}.${context}.${name}.v1` as const;

const ids = { orderId: z.string().min(1), correlationId: z.string().min(1) };

const fact = <C extends string, N extends string, S extends z.ZodRawShape>(context: C, name: N, shape: S) =>
  z.object({ type: z.literal(factType(context, name)), ...ids, ...shape });

export const Currency = z.enum(['EUR', 'USD', 'GBP']);
export type Currency = z.infer<typeof Currency>;

export const OrderLine = z.object({ sku: z.string().min(1), quantity: z.number().int().min(1) });
export type OrderLine = z.infer<typeof OrderLine>;

export const PricedLine = OrderLine.extend({ name: z.string(), unitPrice: z.number(), lineTotal: z.number() });
export type PricedLine = z.infer<typeof PricedLine>;

export const Address = z.object({
  line1: z.string(),
  city: z.string(),
  postalCode: z.string(),
  country: z.string().length(2),
});
export type Address = z.infer<typeof Address>;

/**
 * A customer's id as an order carries it: 1 to 64 characters with no space at either end (intake
 * trims it) and none of / \ ? #, so that it fits in a URL path segment (GET /api/loyalty/{id}).
 * Any other text: it is a partition key, never a document id. Every reader of a customer's data
 * (the loyalty ledger) accepts exactly what an order can carry.
 */
export const CustomerId = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64)
  .regex(/^[^/\\?#]*$/, 'must not contain / \\ ? or #');

// ── orders ──────────────────────────────────────────────────────────────────────────────
/** The fact that starts the saga: a customer placed an order (prices not yet known). */
export const OrderPlaced = fact('orders', 'OrderPlaced', {
  customerId: z.string(),
  customerEmail: z.string(),
  currency: Currency,
  items: z.array(OrderLine),
  paymentToken: z.string(),
  shippingAddress: Address,
  placedAt: z.string(),
});
export type OrderPlaced = z.infer<typeof OrderPlaced>;

export const OrderValidated = fact('orders', 'OrderValidated', {
  lines: z.array(PricedLine),
  total: z.number(),
  currency: Currency,
});
export type OrderValidated = z.infer<typeof OrderValidated>;

export const OrderInvalid = fact('orders', 'OrderInvalid', { reasons: z.array(z.string()) });
export type OrderInvalid = z.infer<typeof OrderInvalid>;

// ── payments ────────────────────────────────────────────────────────────────────────────
export const ChargePayment = z.object({
  ...ids,
  amount: z.number().positive(),
  currency: Currency,
  paymentToken: z.string(),
});
export type ChargePayment = z.infer<typeof ChargePayment>;
export const PaymentCharged = fact('payments', 'PaymentCharged', {
  paymentId: z.string(),
  amount: z.number(),
  currency: Currency,
});
export type PaymentCharged = z.infer<typeof PaymentCharged>;
export const PaymentDeclined = fact('payments', 'PaymentDeclined', { reason: z.string() });
export type PaymentDeclined = z.infer<typeof PaymentDeclined>;
/**
 * The order's payment was voided before its charge was recorded: its refund ran first (an
 * operator's terminate or repair), so the charge takes nothing, or gives back what the gateway took.
 */
export const PaymentVoided = fact('payments', 'PaymentVoided', { reason: z.string() });
export type PaymentVoided = z.infer<typeof PaymentVoided>;

export const RefundPayment = z.object(ids);
export type RefundPayment = z.infer<typeof RefundPayment>;
export const PaymentRefunded = fact('payments', 'PaymentRefunded', { refundId: z.string(), amount: z.number() });
export type PaymentRefunded = z.infer<typeof PaymentRefunded>;
/** Refunding an order that was never charged is a no-op that says so. */
export const RefundNotNeeded = fact('payments', 'RefundNotNeeded', { reason: z.string() });
export type RefundNotNeeded = z.infer<typeof RefundNotNeeded>;

// ── inventory ───────────────────────────────────────────────────────────────────────────
export const ReserveStock = z.object({ ...ids, lines: z.array(OrderLine).min(1) });
export type ReserveStock = z.infer<typeof ReserveStock>;
export const StockReserved = fact('inventory', 'StockReserved', { lines: z.array(OrderLine) });
export type StockReserved = z.infer<typeof StockReserved>;
export const StockUnavailable = fact('inventory', 'StockUnavailable', {
  sku: z.string(),
  requested: z.number(),
  available: z.number(),
});
export type StockUnavailable = z.infer<typeof StockUnavailable>;

export const ReleaseStock = z.object({ ...ids, lines: z.array(OrderLine).min(1) });
export type ReleaseStock = z.infer<typeof ReleaseStock>;
export const StockReleased = fact('inventory', 'StockReleased', { released: z.array(OrderLine) });
export type StockReleased = z.infer<typeof StockReleased>;
export const CommitStock = z.object({ ...ids, lines: z.array(OrderLine).min(1) });
export type CommitStock = z.infer<typeof CommitStock>;
/** The order completed: its holds became sold units. `committed` lists what this run folded (empty on a repeat). */
export const StockCommitted = fact('inventory', 'StockCommitted', { committed: z.array(OrderLine) });
export type StockCommitted = z.infer<typeof StockCommitted>;

// ── notifications ───────────────────────────────────────────────────────────────────────
export const SendConfirmation = z.object({
  ...ids,
  customerEmail: z.string(),
  total: z.number(),
  currency: Currency,
  lines: z.array(PricedLine),
});
export type SendConfirmation = z.infer<typeof SendConfirmation>;
export const ConfirmationSent = fact('notifications', 'ConfirmationSent', { messageId: z.string() });
export type ConfirmationSent = z.infer<typeof ConfirmationSent>;
/** The mailbox does not exist: retrying cannot help, so this is an outcome, not an error. */
export const ConfirmationBounced = fact('notifications', 'ConfirmationBounced', { reason: z.string() });
export type ConfirmationBounced = z.infer<typeof ConfirmationBounced>;

export const SendCancellation = z.object({ ...ids, customerEmail: z.string(), reason: z.string() });
export type SendCancellation = z.infer<typeof SendCancellation>;
export const CancellationSent = fact('notifications', 'CancellationSent', { messageId: z.string() });
export type CancellationSent = z.infer<typeof CancellationSent>;
/** No confirmation reached the customer, so there is nothing to take back. */
export const CancellationNotNeeded = fact('notifications', 'CancellationNotNeeded', { reason: z.string() });
export type CancellationNotNeeded = z.infer<typeof CancellationNotNeeded>;

// ── analytics ───────────────────────────────────────────────────────────────────────────
export const RecordOrder = z.object({
  ...ids,
  customerId: z.string(),
  total: z.number(),
  currency: Currency,
  lines: z.array(PricedLine),
});
export type RecordOrder = z.infer<typeof RecordOrder>;
export const OrderRecorded = fact('analytics', 'OrderRecorded', {});
export type OrderRecorded = z.infer<typeof OrderRecorded>;

export const RetractOrder = z.object(ids);
export type RetractOrder = z.infer<typeof RetractOrder>;
export const OrderRetracted = fact('analytics', 'OrderRetracted', { wasRecorded: z.boolean() });
export type OrderRetracted = z.infer<typeof OrderRetracted>;

// ── shipping ────────────────────────────────────────────────────────────────────────────
export const CreateShipment = z.object({ ...ids, address: Address, lines: z.array(OrderLine).min(1) });
export type CreateShipment = z.infer<typeof CreateShipment>;
export const ShipmentCreated = fact('shipping', 'ShipmentCreated', { trackingNumber: z.string(), carrier: z.string() });
export type ShipmentCreated = z.infer<typeof ShipmentCreated>;
export const AddressRejected = fact('shipping', 'AddressRejected', { reason: z.string() });
export type AddressRejected = z.infer<typeof AddressRejected>;

export const CancelShipment = z.object(ids);
export type CancelShipment = z.infer<typeof CancelShipment>;
export const ShipmentCancelled = fact('shipping', 'ShipmentCancelled', { wasCreated: z.boolean() });
export type ShipmentCancelled = z.infer<typeof ShipmentCancelled>;

// ── the saga's public facts ─────────────────────────────────────────────────────────────
/**
 * What the saga announces when an order ends, for whoever listens (choreography). The saga sends
 * them to one queue and knows nothing of the consumers; a consumer owns its reaction.
 */
export const ORDER_EVENTS_QUEUE = 'order-events';

export const OrderCompleted = fact('orders', 'OrderCompleted', {
  customerId: z.string(),
  total: z.number(),
  currency: Currency,
  completedAt: z.string(),
});
export type OrderCompleted = z.infer<typeof OrderCompleted>;

/** Every other ending: rejected, failed, compensated, or waiting for a person (CompensationFailed). */
export const OrderCancelled = fact('orders', 'OrderCancelled', {
  customerId: z.string(),
  finalStatus: z.enum(['Rejected', 'Failed', 'Compensated', 'CompensationFailed', 'Terminated']),
  reason: z.string(),
  total: z.number().nullable(),
  currency: Currency,
  cancelledAt: z.string(),
});
export type OrderCancelled = z.infer<typeof OrderCancelled>;

export const OrderOutcome = z.discriminatedUnion('type', [OrderCompleted, OrderCancelled]);
export type OrderOutcome = z.infer<typeof OrderOutcome>;

// ── any activity ───────────────────────────────────────────────────────────────────────
/**
 * An activity failed for a reason no retry can change: a malformed command, a bug, a state the
 * caller should never have asked about (refunding money never taken). The activity wrapper
 * (libs/activity.ts) returns it instead of throwing, so the host does not retry it, and the saga
 * ends the step on it at once. The ids are there when the command carried them.
 */
export const ActivityDefect = z.object({
  type: z.literal(factType('activities', 'ActivityDefect')),
  activity: z.string(),
  reason: z.string(),
  /** The name of what was thrown (`Error`, `ShipmentAlreadyCancelled`, `MalformedCommand`…). */
  errorType: z.string(),
  orderId: z.string().optional(),
  correlationId: z.string().optional(),
});
export type ActivityDefect = z.infer<typeof ActivityDefect>;

export const isDefect = (value: unknown): value is ActivityDefect =>
  typeof value === 'object' &&
  value !== null &&
  (value as { type?: unknown }).type === factType('activities', 'ActivityDefect');

/**
 * Parses a message at a trigger's door: a malformed message is a bug, not a transient fault.
 * (Activities parse their commands through their contracts: see libs/activity.ts.)
 */
export function parseCommand<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new Error(`Malformed command: ${z.prettifyError(result.error)}`);
  return result.data;
}

/** Narrows a step's result to one of its possible facts by the fact's versioned type. */
export function isFact<S extends z.ZodObject<{ type: z.ZodLiteral<string> }>>(
  schema: S,
  fact: { type: string },
): fact is z.infer<S> {
  return schema.shape.type.values.has(fact.type);
}
