/**
 * The simulated payment gateway (PSP), the PaymentGateway behind `PROVIDERS=simulated`. Its
 * records live in the `gatewayLedger` container, one entry per idempotency key, so it behaves
 * like a real provider across restarts: asked twice under the same key, it answers with the first
 * result and moves the money once.
 *
 * Test cards: the deployed demo's steering (the demo CLI and the scenarios pick a behaviour by
 * the card token they send), so they live here, in the simulated provider, and nowhere else.
 * | token              | behaviour |
 * |--------------------|-----------|
 * | `tok_visa`         | charges |
 * | `tok_declined`     | declined (an answer, not an error) |
 * | `tok_flaky`        | times out (TransientError) on the first two attempts for a key, then charges |
 * | `tok_gateway_down` | always times out (TransientError) |
 * | `tok_refund_fails` | charges; every refund times out (TransientError) |
 * | `tok_refund_recovers` | charges; the first 6 refund attempts time out (the saga's whole compensation budget), later ones refund: an operator's retry of the dead letter succeeds |
 * | anything else      | declined: "unknown card token" |
 */
import { randomUUID } from 'node:crypto';
import { TransientError } from '../../libs/errors';
import type { Currency } from '../../libs/events';
import { simulatedLatency } from '../../libs/simulation';
import type { ChargeRequest, ChargeResult, PaymentGateway, RefundRequest, RefundResult } from './payment-gateway';
import { readLedgerEntry, writeLedgerEntry, type LedgerEntry } from './repository';

interface TestCard {
  /** Attempts per key that time out before the gateway answers (Infinity: it never does). */
  timeoutsBeforeAnswer: number;
  declineReason?: string;
  /** Refund attempts per key that time out before the gateway refunds (Infinity: it never does). */
  refundTimeoutsBeforeAnswer?: number;
}

/** As many refund attempts as the saga's compensation retry policy makes (retry-policies.ts). */
const SAGA_REFUND_ATTEMPTS = 6;

const TEST_CARDS: Record<string, TestCard> = {
  tok_visa: { timeoutsBeforeAnswer: 0 },
  tok_declined: { timeoutsBeforeAnswer: 0, declineReason: 'card declined' },
  tok_flaky: { timeoutsBeforeAnswer: 2 },
  tok_gateway_down: { timeoutsBeforeAnswer: Infinity },
  tok_refund_fails: { timeoutsBeforeAnswer: 0, refundTimeoutsBeforeAnswer: Infinity },
  tok_refund_recovers: { timeoutsBeforeAnswer: 0, refundTimeoutsBeforeAnswer: SAGA_REFUND_ATTEMPTS },
};
const UNKNOWN_CARD: TestCard = { timeoutsBeforeAnswer: 0, declineReason: 'unknown card token' };
const cardFor = (token: string): TestCard => (Object.hasOwn(TEST_CARDS, token) ? TEST_CARDS[token] : UNKNOWN_CARD);

/** What one look at the ledger decided: an entry to write (if any) and the answer once written. */
type Decision<A> = { write?: LedgerEntry; answer: A | 'timeout' };

const MAX_RACES = 20;

/**
 * Reads the entry under `key`, lets `decide` choose, and writes the choice guarded by the ETag.
 * Two concurrent requests under one key cannot both move money: the loser's write is refused,
 * it reads the winner's entry and answers with it.
 *
 * The first look assumes a new key (most are) and reads nothing: when `decide` creates an entry,
 * the create itself tells whether one exists (it fails, and the loop reads and decides again), so
 * a new key costs one request instead of two. An answer that writes nothing proves nothing about
 * the key: it is asked again after a read.
 */
async function underKey<A>(key: string, decide: (entry: LedgerEntry | undefined) => Decision<A>): Promise<A> {
  for (let race = 0; race < MAX_RACES; race += 1) {
    const current = race === 0 ? undefined : await readLedgerEntry(key);
    const { write, answer } = decide(current?.value);
    if (race === 0 && !write) continue;
    if (write && !(await writeLedgerEntry(write, current?.etag))) continue;
    if (answer === 'timeout') throw new TransientError(`payment gateway timed out (key ${key})`);
    return answer;
  }
  throw new TransientError(`payment gateway busy (key ${key})`);
}

function chargeAnswer(entry: LedgerEntry): ChargeResult | undefined {
  if (entry.status === 'charged')
    return { kind: 'charged', chargeId: entry.reference!, amount: entry.amount, currency: entry.currency };
  if (entry.status === 'declined') return { kind: 'declined', reason: entry.reason! };
  return undefined;
}

async function charge(request: ChargeRequest): Promise<ChargeResult> {
  await simulatedLatency('gateway');
  const card = cardFor(request.token);
  return underKey<ChargeResult>(request.idempotencyKey, (entry) => {
    const settled = entry && chargeAnswer(entry);
    if (settled) return { answer: settled };
    const attempts = (entry?.attempts ?? 0) + 1;
    const base: LedgerEntry = {
      id: request.idempotencyKey,
      orderId: request.orderId,
      operation: 'charge',
      status: 'pending',
      attempts,
      amount: request.amount,
      currency: request.currency,
      token: request.token,
    };
    // A gateway that is down keeps no record; one that times out still counted the attempt.
    if (card.timeoutsBeforeAnswer === Infinity) return { answer: 'timeout' };
    if (attempts <= card.timeoutsBeforeAnswer) return { write: base, answer: 'timeout' };
    if (card.declineReason) {
      return {
        write: { ...base, status: 'declined', reason: card.declineReason },
        answer: { kind: 'declined', reason: card.declineReason },
      };
    }
    const chargeId = `ch_${randomUUID()}`;
    return {
      write: { ...base, status: 'charged', reference: chargeId },
      answer: { kind: 'charged', chargeId, amount: request.amount, currency: request.currency },
    };
  });
}

/** Refunds a charge in full, once per key. */
async function refund(request: RefundRequest): Promise<RefundResult> {
  await simulatedLatency('gateway');
  const charged = (await readLedgerEntry(request.chargeKey))?.value;
  // Asking to refund money that was never taken is a bug in the caller, not a passing fault.
  if (charged?.status !== 'charged')
    throw new Error(`payment gateway: no charge under key ${request.chargeKey} to refund`);
  return underKey<RefundResult>(request.idempotencyKey, (entry) => {
    if (entry?.status === 'refunded') return { answer: { refundId: entry.reference!, amount: entry.amount } };
    const attempts = (entry?.attempts ?? 0) + 1;
    const base: LedgerEntry = {
      id: request.idempotencyKey,
      orderId: charged.orderId,
      operation: 'refund',
      status: 'pending',
      attempts,
      amount: charged.amount,
      currency: charged.currency,
      token: charged.token,
    };
    if (attempts <= (cardFor(charged.token).refundTimeoutsBeforeAnswer ?? 0)) return { write: base, answer: 'timeout' };
    const refundId = `re_${randomUUID()}`;
    return {
      write: { ...base, status: 'refunded', reference: refundId },
      answer: { refundId, amount: charged.amount },
    };
  });
}

/** The settled charge made under `chargeKey`, if any: how a shop finds money it took but never recorded. */
async function findCharge(
  chargeKey: string,
): Promise<{ chargeId: string; amount: number; currency: Currency } | undefined> {
  const entry = (await readLedgerEntry(chargeKey))?.value;
  return entry?.status === 'charged'
    ? { chargeId: entry.reference!, amount: entry.amount, currency: entry.currency }
    : undefined;
}

export const simulatedGateway: PaymentGateway = { charge, refund, findCharge };
