/**
 * The payments context's data: one payment document per order (what this shop knows about the
 * money), and the simulated gateway's ledger (what the payment provider knows; a real provider
 * keeps these records on its side, keyed by the idempotency key we send it).
 */
import { contextDatabase, cosmosStatus, createOnce, optimisticUpdate } from '../../libs/cosmos';
import type { Currency } from '../../libs/events';

export const paymentsData = contextDatabase('payments', { payments: '/orderId', gatewayLedger: '/id' });

interface PaymentBase {
  id: string;
  orderId: string;
  amount: number;
  currency: Currency;
  recordedAt: string;
}

export type RefundedPayment = PaymentBase & {
  status: 'refunded';
  paymentId: string;
  refundId: string;
  refundedAt: string;
};

/**
 * A charge that reached the gateway after its order's payment was voided. It is recorded before
 * its refund is tried, so the money taken is never known only to the gateway: until `refundId` is
 * set the refund is pending, and whatever looks at the payment next (a repeated refundPayment, a
 * redelivered chargePayment) refunds it.
 */
export interface LateCharge {
  paymentId: string;
  amount: number;
  currency: Currency;
  foundAt: string;
  /** The gateway's refund of it; absent while the refund is pending. */
  refundId?: string;
  refundedAt?: string;
}

/**
 * The tombstone a refund leaves when it finds nothing to refund: a charge still on its way (a
 * terminated saga's step still runs) must not take the money after the order was undone.
 */
export interface VoidedPayment {
  id: string;
  orderId: string;
  status: 'voided';
  voidedAt: string;
  /** Present once a charge landed at the gateway after the void: refunded, or its refund pending. */
  lateCharge?: LateCharge;
}

export type PaymentDocument =
  | (PaymentBase & { status: 'charged'; paymentId: string })
  | (PaymentBase & { status: 'declined'; reason: string })
  | RefundedPayment
  | VoidedPayment;

export type LedgerStatus = 'pending' | 'charged' | 'declined' | 'refunded';

/** One gateway operation, keyed (id) by the idempotency key the shop sent with it. */
export interface LedgerEntry {
  id: string;
  orderId: string;
  operation: 'charge' | 'refund';
  status: LedgerStatus;
  /** How often the gateway was asked under this key, kept across restarts (tok_flaky counts them). */
  attempts: number;
  amount: number;
  currency: Currency;
  token: string;
  /** The gateway's own id for a settled charge or refund. */
  reference?: string;
  reason?: string;
}

export interface Versioned<T> {
  value: T;
  etag: string;
}

const payments = () => paymentsData.container('payments');
const ledger = () => paymentsData.container('gatewayLedger');

export async function readPayment(orderId: string): Promise<PaymentDocument | undefined> {
  const { resource } = await payments().item(orderId, orderId).read<PaymentDocument>();
  return resource;
}

/**
 * Stores the outcome of a charge. The first outcome stored wins: a concurrent or repeated run
 * gets a 409 and adopts what is already there, so the order keeps one payment.
 */
export async function recordPayment(payment: PaymentDocument): Promise<PaymentDocument> {
  return (await createOnce(payments(), payment, payment.orderId)).stored;
}

/**
 * Leaves the voided tombstone for an order with no payment. A charge recorded meanwhile wins (the
 * first document stored stands): the caller gets that one back and refunds it.
 */
export async function voidPayment(orderId: string, now: Date): Promise<PaymentDocument> {
  const tombstone: VoidedPayment = { id: orderId, orderId, status: 'voided', voidedAt: now.toISOString() };
  return (await createOnce(payments(), tombstone, orderId)).stored;
}

/** Puts a late charge, its refund pending, on the order's voided tombstone; one already there stands. */
export async function recordLateCharge(
  orderId: string,
  late: Omit<LateCharge, 'refundId' | 'refundedAt'>,
): Promise<VoidedPayment> {
  const stored = await optimisticUpdate<PaymentDocument>(payments(), orderId, orderId, (current) => {
    if (current?.status !== 'voided')
      throw new Error(`payment ${orderId}: no voided payment to record a late charge on`);
    if (current.lateCharge) return undefined;
    return { ...current, lateCharge: late };
  });
  return stored as VoidedPayment;
}

/** Marks the tombstone's late charge refunded; the first refund recorded stands. */
export async function markLateChargeRefunded(
  orderId: string,
  refund: { refundId: string; refundedAt: string },
): Promise<VoidedPayment> {
  const stored = await optimisticUpdate<PaymentDocument>(payments(), orderId, orderId, (current) => {
    if (current?.status !== 'voided' || !current.lateCharge)
      throw new Error(`payment ${orderId}: no late charge to mark refunded`);
    if (current.lateCharge.refundId) return undefined;
    return { ...current, lateCharge: { ...current.lateCharge, ...refund } };
  });
  return stored as VoidedPayment;
}

/**
 * The late charges whose refund is still pending, oldest first: what an operator must see when a
 * charge's own run could not refund it (its saga was terminated, nothing else will retry it).
 */
export async function pendingLateCharges(limit: number): Promise<VoidedPayment[]> {
  const { resources } = await payments()
    .items.query<VoidedPayment>({
      query:
        "SELECT TOP @limit * FROM c WHERE c.status = 'voided' AND IS_DEFINED(c.lateCharge) AND NOT IS_DEFINED(c.lateCharge.refundId) ORDER BY c.lateCharge.foundAt ASC",
      parameters: [{ name: '@limit', value: limit }],
    })
    .fetchAll();
  return resources;
}

/** Marks a charged payment refunded; guarded by the ETag so a concurrent run cannot double-write. */
export async function markRefunded(
  orderId: string,
  refund: { refundId: string; refundedAt: string },
): Promise<RefundedPayment> {
  const stored = await optimisticUpdate<PaymentDocument>(payments(), orderId, orderId, (current) => {
    if (!current) throw new Error(`payment ${orderId}: nothing to mark refunded`);
    if (current.status === 'refunded') return undefined;
    if (current.status === 'declined' || current.status === 'voided')
      throw new Error(`payment ${orderId} was ${current.status}: nothing to refund`);
    return { ...current, status: 'refunded', ...refund };
  });
  return stored as RefundedPayment;
}

export async function readLedgerEntry(key: string): Promise<Versioned<LedgerEntry> | undefined> {
  const { resource, etag } = await ledger().item(key, key).read<LedgerEntry>();
  return resource ? { value: resource, etag: etag! } : undefined;
}

/**
 * Writes a ledger entry only if it is still the version the caller decided on: creates it when
 * the caller saw none, else replaces it if the ETag still matches. Returns false when someone
 * else wrote first, so the caller reads again and decides again.
 */
export async function writeLedgerEntry(entry: LedgerEntry, expectedEtag: string | undefined): Promise<boolean> {
  try {
    if (expectedEtag === undefined) await ledger().items.create(entry);
    else
      await ledger()
        .item(entry.id, entry.id)
        .replace(entry, { accessCondition: { type: 'IfMatch', condition: expectedEtag } });
    return true;
  } catch (error) {
    const status = cosmosStatus(error);
    if (status === 409 || status === 412) return false;
    throw error;
  }
}
