/**
 * What the payments context needs from a payment provider (PSP). Every call carries an
 * idempotency key: asked twice under one key, a provider answers with its first result and moves
 * the money once. A provider that cannot be reached throws TransientError; a declined card is an
 * answer. The implementation is chosen by the PROVIDERS setting (payments/index.ts); the only one
 * today is the simulated gateway (simulated-gateway.ts).
 */
import type { Currency } from '../../libs/events';

export interface ChargeRequest {
  idempotencyKey: string;
  orderId: string;
  token: string;
  amount: number;
  currency: Currency;
}

export type ChargeResult =
  { kind: 'charged'; chargeId: string; amount: number; currency: Currency } | { kind: 'declined'; reason: string };

export interface RefundRequest {
  idempotencyKey: string;
  /** The key the refunded charge was made under: how the shop names the charge to the gateway. */
  chargeKey: string;
}

export interface RefundResult {
  refundId: string;
  amount: number;
}

export interface PaymentGateway {
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /** Refunds a charge in full, once per key. Asked to refund a charge it never made, it throws (a caller's bug). */
  refund(request: RefundRequest): Promise<RefundResult>;
  /** The settled charge made under `chargeKey`, if any: how a shop finds money it took but never recorded. */
  findCharge(chargeKey: string): Promise<{ chargeId: string; amount: number; currency: Currency } | undefined>;
}
