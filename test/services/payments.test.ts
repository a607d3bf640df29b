/** The payments context against the real local Cosmos server: the test cards, idempotency, refunds, the ledger's ETag guard. */
import { Item, Items } from '@azure/cosmos';
import { capturedFunctions } from '../../local/engine/functions-core';
import { TransientError } from '../../src/libs/errors';
import { factType, type ChargePayment } from '../../src/libs/events';
import { paymentsActivities } from '../../src/services/payments';
import { PaymentsActivities } from '../../src/services/payments/contract';
import { lateRefundRetry } from '../../src/services/payments/late-charge';
import * as paymentsRepository from '../../src/services/payments/repository';
import {
  markLateChargeRefunded,
  markRefunded,
  paymentsData,
  readLedgerEntry,
  readPayment,
  recordLateCharge,
  recordPayment,
  voidPayment,
  writeLedgerEntry,
  type LedgerEntry,
  type PaymentDocument,
} from '../../src/services/payments/repository';
import { simulatedGateway as gateway } from '../../src/services/payments/simulated-gateway';
import { gatewayTotals } from '../support/gateway-ledger';
import { invocation, newOrder } from './helpers';

const { chargePayment, refundPayment } = paymentsActivities;

beforeAll(async () => {
  await paymentsData.ensureCreated();
});

afterEach(() => {
  jest.restoreAllMocks();
});

const chargeCommand = (paymentToken: string, amount = 159): ChargePayment => ({
  ...newOrder(),
  amount,
  currency: 'EUR',
  paymentToken,
});
const charge = (command: ChargePayment) => chargePayment(command, invocation(PaymentsActivities.charge));
const refund = (ids: { orderId: string; correlationId: string }) =>
  refundPayment({ orderId: ids.orderId, correlationId: ids.correlationId }, invocation(PaymentsActivities.refund));

describe('payments context', () => {
  it('registers its activities under the names of its contract', () => {
    expect(capturedFunctions().has('chargePayment')).toBe(true);
    expect(capturedFunctions().has('refundPayment')).toBe(true);
    expect(PaymentsActivities).toEqual({ charge: 'chargePayment', refund: 'refundPayment' });
  });

  it('logs with the order and correlation ids, and never the card token', async () => {
    const command = chargeCommand('tok_visa');
    const context = invocation(PaymentsActivities.charge);
    await chargePayment(command, context);
    expect(context.logs.length).toBeGreaterThan(0);
    for (const { text } of context.logs) {
      expect(JSON.parse(text)).toMatchObject({
        function: 'chargePayment',
        orderId: command.orderId,
        correlationId: command.correlationId,
      });
      expect(text).not.toContain('tok_visa');
    }
  });

  it('answers a malformed command with a defect (a bug, not a transient fault: nothing to retry)', async () => {
    const answer = await chargePayment(
      { orderId: 'x', correlationId: 'c', amount: -1, currency: 'EUR', paymentToken: 'tok_visa' },
      invocation('chargePayment'),
    );
    expect(answer).toEqual({
      type: factType('activities', 'ActivityDefect'),
      activity: 'chargePayment',
      errorType: 'MalformedCommand',
      reason: expect.stringMatching(/^Malformed command: .*amount/s),
      orderId: 'x',
      correlationId: 'c',
    });
    expect(await readPayment('x')).toBeUndefined();
  });
});

describe('chargePayment', () => {
  it('charges tok_visa and records the payment', async () => {
    const command = chargeCommand('tok_visa', 12.5);
    const fact = await charge(command);
    expect(fact).toEqual({
      type: factType('payments', 'PaymentCharged'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      paymentId: expect.stringMatching(/^ch_/),
      amount: 12.5,
      currency: 'EUR',
    });
    expect(await readPayment(command.orderId)).toMatchObject({
      status: 'charged',
      amount: 12.5,
      paymentId: (fact as { paymentId: string }).paymentId,
    });
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 12.5, refunded: 0 });
  });

  it('charges once when run twice: same fact, same payment document, one gateway charge', async () => {
    const command = chargeCommand('tok_visa');
    const first = await charge(command);
    const afterFirst = await readPayment(command.orderId);
    const second = await charge(command);
    expect(second).toEqual(first);
    expect(await readPayment(command.orderId)).toEqual(afterFirst);
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 159, refunded: 0 });
  });

  it('charges once when two runs race', async () => {
    const command = chargeCommand('tok_visa');
    const [a, b] = await Promise.all([charge(command), charge(command)]);
    expect(a).toEqual(b);
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 159, refunded: 0 });
  });

  it('returns tok_declined as PaymentDeclined, again on a repeat, and takes nothing', async () => {
    const command = chargeCommand('tok_declined');
    const first = await charge(command);
    expect(first).toEqual({
      type: factType('payments', 'PaymentDeclined'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      reason: 'card declined',
    });
    const afterFirst = await readPayment(command.orderId);
    expect(afterFirst).toMatchObject({ status: 'declined' });
    expect(await charge(command)).toEqual(first);
    expect(await readPayment(command.orderId)).toEqual(afterFirst);
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 0, refunded: 0 });
  });

  it('declines an unknown card token', async () => {
    const command = chargeCommand('tok_mastercard');
    expect(await charge(command)).toMatchObject({
      type: factType('payments', 'PaymentDeclined'),
      reason: 'unknown card token',
    });
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 0, refunded: 0 });
  });

  it('tok_flaky fails transiently twice, then charges once', async () => {
    const command = chargeCommand('tok_flaky');
    await expect(charge(command)).rejects.toBeInstanceOf(TransientError);
    await expect(charge(command)).rejects.toBeInstanceOf(TransientError);
    expect(await readPayment(command.orderId)).toBeUndefined();
    expect((await readLedgerEntry(`${command.orderId}:charge`))?.value).toMatchObject({
      status: 'pending',
      attempts: 2,
    });
    const third = await charge(command);
    expect(third).toMatchObject({ type: factType('payments', 'PaymentCharged'), amount: 159 });
    expect(await charge(command)).toEqual(third);
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 159, refunded: 0 });
  });

  it('tok_flaky counts attempts per key, so concurrent attempts cannot skip the count', async () => {
    const command = chargeCommand('tok_flaky');
    const outcomes = await Promise.allSettled([charge(command), charge(command)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect((await readLedgerEntry(`${command.orderId}:charge`))?.value.attempts).toBe(2);
    expect(await charge(command)).toMatchObject({ type: factType('payments', 'PaymentCharged') });
  });

  it('tok_gateway_down always fails transiently and records no payment', async () => {
    const command = chargeCommand('tok_gateway_down');
    for (let attempt = 0; attempt < 4; attempt += 1)
      await expect(charge(command)).rejects.toBeInstanceOf(TransientError);
    expect(await readPayment(command.orderId)).toBeUndefined();
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 0, refunded: 0 });
  });
});

describe('the simulated gateway', () => {
  it('answers a repeated key with the first charge', async () => {
    const { orderId } = newOrder();
    const request = {
      idempotencyKey: `${orderId}:charge`,
      orderId,
      token: 'tok_visa',
      amount: 20,
      currency: 'EUR' as const,
    };
    const read = jest.spyOn(Item.prototype, 'read');
    const create = jest.spyOn(Items.prototype, 'create');
    const first = await gateway.charge(request);
    // A new key: one create, no read.
    expect([create.mock.calls.length, read.mock.calls.length]).toEqual([1, 0]);
    const second = await gateway.charge({ ...request, amount: 999 });
    // A known key: the create conflicts, the entry is read, and its answer stands.
    expect([create.mock.calls.length, read.mock.calls.length]).toEqual([2, 1]);
    expect(first).toMatchObject({ kind: 'charged', amount: 20 });
    expect(second).toEqual(first);
    expect(await gatewayTotals(orderId)).toEqual({ charged: 20, refunded: 0 });
  });

  it('recovers a charge the payments document never heard of (a crash between the two)', async () => {
    const command = chargeCommand('tok_visa');
    const charged = await gateway.charge({
      idempotencyKey: `${command.orderId}:charge`,
      orderId: command.orderId,
      token: 'tok_visa',
      amount: 159,
      currency: 'EUR',
    });
    const fact = await charge(command);
    expect(fact).toMatchObject({ paymentId: charged.kind === 'charged' ? charged.chargeId : 'unexpected' });
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 159, refunded: 0 });
  });

  it('refuses to refund a charge that does not exist, as a bug rather than a transient fault', async () => {
    const { orderId } = newOrder();
    const attempt = gateway.refund({ idempotencyKey: `${orderId}:refund`, chargeKey: `${orderId}:charge` });
    await expect(attempt).rejects.toThrow(/no charge/);
    await expect(attempt).rejects.not.toBeInstanceOf(TransientError);
  });
});

describe('refundPayment', () => {
  it('is not needed for an order that was never charged', async () => {
    const ids = newOrder();
    const fact = await refund(ids);
    expect(fact).toEqual({ type: factType('payments', 'RefundNotNeeded'), ...ids, reason: 'no payment was made' });
    expect(await refund(ids)).toEqual(fact);
    // It leaves a tombstone, so that a charge still on its way takes nothing (see "the voided payment").
    expect(await readPayment(ids.orderId)).toMatchObject({
      id: ids.orderId,
      orderId: ids.orderId,
      status: 'voided',
      voidedAt: expect.any(String),
    });
    expect(await gatewayTotals(ids.orderId)).toEqual({ charged: 0, refunded: 0 });
  });

  it('finds and refunds a charge the gateway made but the payment document never recorded', async () => {
    const command = chargeCommand('tok_visa');
    await gateway.charge({
      idempotencyKey: `${command.orderId}:charge`,
      orderId: command.orderId,
      token: 'tok_visa',
      amount: 159,
      currency: 'EUR',
    });
    expect(await readPayment(command.orderId)).toBeUndefined();
    const first = await refund(command);
    const second = await refund(command);
    expect(first).toMatchObject({ type: factType('payments', 'PaymentRefunded'), amount: 159 });
    expect(second).toEqual(first);
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 159, refunded: 159 });
    expect(await readPayment(command.orderId)).toMatchObject({ status: 'refunded' });
  });

  it('is not needed for a declined payment', async () => {
    const command = chargeCommand('tok_declined');
    await charge(command);
    expect(await refund(command)).toMatchObject({
      type: factType('payments', 'RefundNotNeeded'),
      reason: expect.stringMatching(/^no payment was made/),
    });
    expect(await readPayment(command.orderId)).toMatchObject({ status: 'declined' });
  });

  it('refunds a charge once when run twice: same fact, same document, one gateway refund', async () => {
    const command = chargeCommand('tok_visa', 42.1);
    const charged = await charge(command);
    const first = await refund(command);
    expect(first).toEqual({
      type: factType('payments', 'PaymentRefunded'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      refundId: expect.stringMatching(/^re_/),
      amount: 42.1,
    });
    const afterFirst = await readPayment(command.orderId);
    expect(afterFirst).toMatchObject({ status: 'refunded', refundId: (first as { refundId: string }).refundId });
    expect(await refund(command)).toEqual(first);
    expect(await readPayment(command.orderId)).toEqual(afterFirst);
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 42.1, refunded: 42.1 });
    // A late duplicate of the charge step hears the original charge and takes no more money.
    expect(await charge(command)).toEqual(charged);
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 42.1, refunded: 42.1 });
  });

  it('refunds once when two runs race', async () => {
    const command = chargeCommand('tok_visa');
    await charge(command);
    const [a, b] = await Promise.all([refund(command), refund(command)]);
    expect(a).toEqual(b);
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 159, refunded: 159 });
  });

  it('tok_refund_fails charges, but every refund fails transiently and leaves the payment charged', async () => {
    const command = chargeCommand('tok_refund_fails');
    expect(await charge(command)).toMatchObject({ type: factType('payments', 'PaymentCharged') });
    await expect(refund(command)).rejects.toBeInstanceOf(TransientError);
    await expect(refund(command)).rejects.toBeInstanceOf(TransientError);
    expect(await readPayment(command.orderId)).toMatchObject({ status: 'charged' });
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 159, refunded: 0 });
  });
});

describe('a charge and its refund in either order: the voided payment', () => {
  const voided = (command: ChargePayment, reason: string) => ({
    type: factType('payments', 'PaymentVoided'),
    orderId: command.orderId,
    correlationId: command.correlationId,
    reason,
  });
  const BEFORE = 'the order was undone before its payment was charged: nothing was taken';
  const WHILE = 'the order was undone while its payment was being charged: the charge was refunded';
  /** The charge reaching the gateway on its own (a run that read no payment, then got there). */
  const chargeAtGateway = (command: ChargePayment) =>
    gateway.charge({
      idempotencyKey: `${command.orderId}:charge`,
      orderId: command.orderId,
      token: command.paymentToken,
      amount: command.amount,
      currency: command.currency,
    });

  it('refund first: the charge that comes after takes nothing and never asks the gateway to charge', async () => {
    const command = chargeCommand('tok_visa');
    expect(await refund(command)).toMatchObject({ type: factType('payments', 'RefundNotNeeded') });
    const charging = jest.spyOn(gateway, 'charge');
    expect(await charge(command)).toEqual(voided(command, BEFORE));
    expect(await charge(command)).toEqual(voided(command, BEFORE));
    expect(charging).not.toHaveBeenCalled();
    expect(await readPayment(command.orderId)).toMatchObject({ status: 'voided' });
    expect(await readPayment(command.orderId)).not.toHaveProperty('lateCharge');
    expect(await refund(command)).toMatchObject({ type: factType('payments', 'RefundNotNeeded') });
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 0, refunded: 0 });
  });

  it('refund while the charge is at the gateway: the charge finds the tombstone in place of its record and refunds itself', async () => {
    const command = chargeCommand('tok_visa', 75);
    const realCharge = gateway.charge.bind(gateway);
    let refundedFirst: unknown;
    jest.spyOn(gateway, 'charge').mockImplementationOnce(async (request) => {
      refundedFirst = await refund(command);
      return realCharge(request);
    });
    expect(await charge(command)).toEqual(voided(command, WHILE));
    expect(refundedFirst).toMatchObject({ type: factType('payments', 'RefundNotNeeded') });
    const stored = await readPayment(command.orderId);
    expect(stored).toMatchObject({
      status: 'voided',
      lateCharge: { paymentId: expect.stringMatching(/^ch_/), refundId: expect.stringMatching(/^re_/), amount: 75 },
    });
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 75, refunded: 75 });
    // Repeats of either step move no more money; the refund now answers with the refund that was made.
    expect(await charge(command)).toEqual(voided(command, WHILE));
    const refundAtGateway = (await readLedgerEntry(`${command.orderId}:refund`))?.value.reference;
    expect(stored).toMatchObject({ lateCharge: { refundId: refundAtGateway } });
    expect(await refund(command)).toEqual({
      type: factType('payments', 'PaymentRefunded'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      refundId: refundAtGateway,
      amount: 75,
    });
    expect(await readPayment(command.orderId)).toEqual(stored);
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 75, refunded: 75 });
  });

  it('refund, then a charge reaches the gateway and its run dies before recording: the redelivered charge refunds it', async () => {
    const command = chargeCommand('tok_visa', 20);
    await refund(command);
    await chargeAtGateway(command);
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 20, refunded: 0 });
    expect(await charge(command)).toEqual(voided(command, WHILE));
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 20, refunded: 20 });
  });

  it('refund, then a charge that died unrecorded: a repeated refund finds it and refunds it', async () => {
    const command = chargeCommand('tok_visa', 30);
    await refund(command);
    await chargeAtGateway(command);
    expect(await refund(command)).toMatchObject({ type: factType('payments', 'PaymentRefunded'), amount: 30 });
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 30, refunded: 30 });
    expect(await charge(command)).toEqual(voided(command, WHILE));
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 30, refunded: 30 });
  });

  it('a declined charge that lands on the tombstone refunds nothing', async () => {
    const command = chargeCommand('tok_declined');
    const realCharge = gateway.charge.bind(gateway);
    jest.spyOn(gateway, 'charge').mockImplementationOnce(async (request) => {
      await refund(command);
      return realCharge(request);
    });
    const refunding = jest.spyOn(gateway, 'refund');
    expect(await charge(command)).toEqual(voided(command, BEFORE));
    expect(refunding).not.toHaveBeenCalled();
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 0, refunded: 0 });
  });

  it('a charge recorded first is refunded as usual, though the refund meant to leave a tombstone', async () => {
    const command = chargeCommand('tok_visa', 40);
    const realFind = gateway.findCharge.bind(gateway);
    // The refund looks at the gateway before the charge is there, and the charge is recorded before its tombstone.
    jest.spyOn(gateway, 'findCharge').mockImplementationOnce(async (key) => {
      const nothingYet = await realFind(key);
      await charge(command);
      return nothingYet;
    });
    expect(await refund(command)).toMatchObject({ type: factType('payments', 'PaymentRefunded'), amount: 40 });
    expect(await readPayment(command.orderId)).toMatchObject({ status: 'refunded' });
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 40, refunded: 40 });
  });
});

describe('a late charge whose refund fails: recorded first, retried in the activity, never lost', () => {
  const WHILE = 'the order was undone while its payment was being charged: the charge was refunded';
  /** The waits between a late refund's tries, recorded and skipped: the schedule runs without being waited out. */
  const skipWaits = () => jest.spyOn(lateRefundRetry, 'wait').mockResolvedValue(undefined);
  /** A charge whose run reads no payment, and whose refund reaches the gateway after the void. */
  const landingAfterTheVoid = (command: ChargePayment) => {
    const realCharge = gateway.charge.bind(gateway);
    jest.spyOn(gateway, 'charge').mockImplementationOnce(async (request) => {
      expect(await refund(command)).toMatchObject({ type: factType('payments', 'RefundNotNeeded') });
      return realCharge(request);
    });
  };

  it('the charge writes itself on the tombstone before the refund, and retries the refund with backoff until it goes through', async () => {
    // tok_refund_recovers: the first 6 refund attempts time out, the 7th refunds.
    const command = chargeCommand('tok_refund_recovers', 159);
    landingAfterTheVoid(command);
    const seenAtEachWait: unknown[] = [];
    const waits = jest.spyOn(lateRefundRetry, 'wait').mockImplementation(async () => {
      seenAtEachWait.push(await readPayment(command.orderId));
    });
    const refunding = jest.spyOn(gateway, 'refund');

    expect(await charge(command)).toMatchObject({ type: factType('payments', 'PaymentVoided'), reason: WHILE });
    expect(waits.mock.calls.map(([ms]) => ms)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000]);
    expect(refunding).toHaveBeenCalledTimes(7);
    // While the gateway kept failing, the tombstone said a charge was taken and not yet given back.
    for (const seen of seenAtEachWait) {
      expect(seen).toMatchObject({
        status: 'voided',
        lateCharge: { paymentId: expect.stringMatching(/^ch_/), amount: 159 },
      });
      expect((seen as { lateCharge: object }).lateCharge).not.toHaveProperty('refundId');
    }
    const refundAtGateway = (await readLedgerEntry(`${command.orderId}:refund`))?.value;
    expect(refundAtGateway).toMatchObject({ status: 'refunded', attempts: 7 });
    expect(await readPayment(command.orderId)).toMatchObject({
      status: 'voided',
      lateCharge: {
        amount: 159,
        currency: 'EUR',
        refundId: refundAtGateway?.reference,
        refundedAt: expect.any(String),
      },
    });
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 159, refunded: 159 });
  });

  it('a refund failing past the bound leaves the charge pending on the tombstone, says a person must refund it, and a later refundPayment refunds it once', async () => {
    const command = chargeCommand('tok_visa', 64);
    landingAfterTheVoid(command);
    skipWaits();
    const down = jest.spyOn(gateway, 'refund').mockRejectedValue(new TransientError('payment gateway timed out'));
    const context = invocation(PaymentsActivities.charge);

    await expect(chargePayment(command, context)).rejects.toBeInstanceOf(TransientError);
    expect(down).toHaveBeenCalledTimes(lateRefundRetry.delaysMs.length + 1);
    const pending = await readPayment(command.orderId);
    expect(pending).toMatchObject({
      status: 'voided',
      lateCharge: { paymentId: expect.stringMatching(/^ch_/), amount: 64 },
    });
    expect((pending as { lateCharge: object }).lateCharge).not.toHaveProperty('refundId');
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 64, refunded: 0 });
    const errors = context.logs.filter((line) => line.level === 'error').map((line) => JSON.parse(line.text));
    expect(errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/a person must refund it with POST \/api\/operations\/payments\/late-charges\//),
        orderId: command.orderId,
        chargeId: (pending as { lateCharge: { paymentId: string } }).lateCharge.paymentId,
        amount: 64,
        currency: 'EUR',
      }),
    ]);

    // The gateway is back: a repeated refund (an operator's repair) finds the pending charge and refunds it.
    down.mockRestore();
    const first = await refund(command);
    expect(first).toEqual({
      type: factType('payments', 'PaymentRefunded'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      refundId: expect.stringMatching(/^re_/),
      amount: 64,
    });
    expect(await refund(command)).toEqual(first);
    expect(await charge(command)).toMatchObject({ type: factType('payments', 'PaymentVoided'), reason: WHILE });
    expect(await readPayment(command.orderId)).toMatchObject({
      lateCharge: { refundId: (first as { refundId: string }).refundId },
    });
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 64, refunded: 64 });
  });

  it('the charge that landed is written down as this run knows it, retried while the payments database fails, and never looked up again', async () => {
    const command = chargeCommand('tok_visa', 77);
    const realCharge = gateway.charge.bind(gateway);
    let lookups: jest.SpyInstance | undefined;
    jest.spyOn(gateway, 'charge').mockImplementationOnce(async (request) => {
      expect(await refund(command)).toMatchObject({ type: factType('payments', 'RefundNotNeeded') });
      lookups = jest.spyOn(gateway, 'findCharge');
      return realCharge(request);
    });
    skipWaits();
    const record = paymentsRepository.recordLateCharge;
    let recordTries = 0;
    jest.spyOn(paymentsRepository, 'recordLateCharge').mockImplementation(async (...args) => {
      recordTries += 1;
      if (recordTries === 1) throw Object.assign(new Error('Request rate is large'), { code: 429, statusCode: 429 });
      return record(...args);
    });
    expect(await charge(command)).toMatchObject({ type: factType('payments', 'PaymentVoided'), reason: WHILE });
    expect(recordTries).toBe(2);
    // Once the charge is back, nothing asks the gateway what this run already knows.
    expect(lookups).toBeDefined();
    expect(lookups!).not.toHaveBeenCalled();
    expect(await readPayment(command.orderId)).toMatchObject({
      lateCharge: { amount: 77, refundId: expect.stringMatching(/^re_/) },
    });
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 77, refunded: 77 });
  });

  it('a late charge the payments database never takes is still named for a person: the charge id and amount this run knows', async () => {
    const command = chargeCommand('tok_visa', 88);
    landingAfterTheVoid(command);
    skipWaits();
    jest
      .spyOn(paymentsRepository, 'recordLateCharge')
      .mockRejectedValue(Object.assign(new Error('Request rate is large'), { code: 429, statusCode: 429 }));
    const context = invocation(PaymentsActivities.charge);
    await expect(chargePayment(command, context)).rejects.toThrow(/Request rate is large/);
    const errors = context.logs.filter((line) => line.level === 'error').map((line) => JSON.parse(line.text));
    expect(errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/could not be recorded: a person must refund it at the gateway/),
        orderId: command.orderId,
        chargeId: expect.stringMatching(/^ch_/),
        amount: 88,
        currency: 'EUR',
        recordedOnThePayment: false,
      }),
    ]);
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 88, refunded: 0 });
  });

  it('a refund that went through but could not be marked sends the person to the route, which refunds nothing twice', async () => {
    const command = chargeCommand('tok_visa', 21);
    landingAfterTheVoid(command);
    skipWaits();
    const mark = jest
      .spyOn(paymentsRepository, 'markLateChargeRefunded')
      .mockRejectedValue(Object.assign(new Error('Request rate is large'), { code: 429, statusCode: 429 }));
    const context = invocation(PaymentsActivities.charge);
    await expect(chargePayment(command, context)).rejects.toThrow(/Request rate is large/);
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 21, refunded: 21 });
    const [logged] = context.logs.filter((line) => line.level === 'error').map((line) => JSON.parse(line.text));
    expect(logged.message).toMatch(
      /refund it with POST \/api\/operations\/payments\/late-charges\/\{orderId\}\/refund/,
    );
    expect(logged.message).not.toMatch(/at the gateway/);
    // What the route runs: the same refund key, so the gateway answers the refund it made.
    mark.mockRestore();
    expect(await refund(command)).toMatchObject({ type: factType('payments', 'PaymentRefunded'), amount: 21 });
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 21, refunded: 21 });
    expect(await readPayment(command.orderId)).toMatchObject({
      lateCharge: { refundId: expect.stringMatching(/^re_/) },
    });
  });

  it('refundPayment tries a pending late refund once and throws the fault: its caller retries, then dead-letters', async () => {
    const command = chargeCommand('tok_refund_fails', 12);
    landingAfterTheVoid(command);
    const waits = skipWaits();
    await expect(charge(command)).rejects.toBeInstanceOf(TransientError);
    waits.mockClear();
    const refunding = jest.spyOn(gateway, 'refund');
    await expect(refund(command)).rejects.toBeInstanceOf(TransientError);
    expect(refunding).toHaveBeenCalledTimes(1);
    expect(waits).not.toHaveBeenCalled();
    expect(await readPayment(command.orderId)).toMatchObject({ lateCharge: { amount: 12 } });
  });

  it('a repeated late refund never refunds twice: racing runs, and a run that refunded but died before marking it', async () => {
    skipWaits();
    const command = chargeCommand('tok_visa', 33);
    await refund(command);
    await gateway.charge({
      idempotencyKey: `${command.orderId}:charge`,
      orderId: command.orderId,
      token: 'tok_visa',
      amount: 33,
      currency: 'EUR',
    });
    const answers = await Promise.all([charge(command), charge(command), refund(command), refund(command)]);
    expect(answers.map((answer) => answer.type)).toEqual([
      factType('payments', 'PaymentVoided'),
      factType('payments', 'PaymentVoided'),
      factType('payments', 'PaymentRefunded'),
      factType('payments', 'PaymentRefunded'),
    ]);
    const refundAtGateway = (await readLedgerEntry(`${command.orderId}:refund`))?.value.reference;
    expect(answers.slice(2).map((answer) => (answer as { refundId: string }).refundId)).toEqual([
      refundAtGateway,
      refundAtGateway,
    ]);
    expect(await readPayment(command.orderId)).toMatchObject({ lateCharge: { refundId: refundAtGateway } });
    expect(await gatewayTotals(command.orderId)).toEqual({ charged: 33, refunded: 33 });

    // Another order: the gateway refunded the late charge, and the run died before the tombstone heard of it.
    const crashed = chargeCommand('tok_visa', 21);
    await refund(crashed);
    const charged = await gateway.charge({
      idempotencyKey: `${crashed.orderId}:charge`,
      orderId: crashed.orderId,
      token: 'tok_visa',
      amount: 21,
      currency: 'EUR',
    });
    await recordLateCharge(crashed.orderId, {
      paymentId: charged.kind === 'charged' ? charged.chargeId : 'unexpected',
      amount: 21,
      currency: 'EUR',
      foundAt: new Date().toISOString(),
    });
    const refunded = await gateway.refund({
      idempotencyKey: `${crashed.orderId}:refund`,
      chargeKey: `${crashed.orderId}:charge`,
    });
    expect(await charge(crashed)).toMatchObject({ type: factType('payments', 'PaymentVoided'), reason: WHILE });
    expect(await readPayment(crashed.orderId)).toMatchObject({ lateCharge: { refundId: refunded.refundId } });
    expect(await refund(crashed)).toMatchObject({ refundId: refunded.refundId, amount: 21 });
    expect(await gatewayTotals(crashed.orderId)).toEqual({ charged: 21, refunded: 21 });
  });
});

describe('the payments repository', () => {
  const charged = (orderId: string, amount = 10): PaymentDocument => ({
    id: orderId,
    orderId,
    amount,
    currency: 'EUR',
    recordedAt: '2026-01-01T00:00:00.000Z',
    status: 'charged',
    paymentId: `ch_${orderId}`,
  });
  const declined = (orderId: string): PaymentDocument => ({
    id: orderId,
    orderId,
    amount: 10,
    currency: 'EUR',
    recordedAt: '2026-01-01T00:00:00.000Z',
    status: 'declined',
    reason: 'no funds',
  });
  const entry = (orderId: string, fields: Partial<LedgerEntry> = {}): LedgerEntry => ({
    id: `${orderId}:charge`,
    orderId,
    operation: 'charge',
    status: 'charged',
    attempts: 1,
    amount: 10,
    currency: 'EUR',
    token: 'tok_visa',
    ...fields,
  });
  const busy = () => Object.assign(new Error('busy'), { code: 503 });

  it('recordPayment keeps the first outcome stored: a later, different one answers the first', async () => {
    const { orderId } = newOrder();
    expect(await recordPayment(charged(orderId))).toMatchObject(charged(orderId));
    expect(await recordPayment(declined(orderId))).toMatchObject(charged(orderId));
    expect(await readPayment(orderId)).toMatchObject(charged(orderId));
  });

  it('recordPayment lets a fault other than a conflict through, and fails when the conflicting payment cannot be read', async () => {
    const { orderId } = newOrder();
    jest.spyOn(Items.prototype, 'create').mockRejectedValueOnce(busy());
    await expect(recordPayment(charged(orderId))).rejects.toMatchObject({ code: 503 });
    expect(await readPayment(orderId)).toBeUndefined();
    await recordPayment(charged(orderId));
    jest
      .spyOn(Item.prototype, 'read')
      .mockResolvedValueOnce({ resource: undefined } as Awaited<ReturnType<Item['read']>>);
    await expect(recordPayment(charged(orderId))).rejects.toMatchObject({
      message: `payments ${orderId} conflicted on create but cannot be read`,
      cause: expect.objectContaining({ code: 409 }),
    });
  });

  it('markRefunded marks a charged payment once; the first refund stands', async () => {
    const { orderId } = newOrder();
    await recordPayment(charged(orderId, 25));
    const first = await markRefunded(orderId, { refundId: 're_1', refundedAt: '2026-01-02T00:00:00.000Z' });
    expect(first).toMatchObject({
      ...charged(orderId, 25),
      status: 'refunded',
      refundId: 're_1',
      refundedAt: '2026-01-02T00:00:00.000Z',
    });
    expect(await markRefunded(orderId, { refundId: 're_2', refundedAt: '2026-01-03T00:00:00.000Z' })).toMatchObject({
      refundId: 're_1',
    });
    expect(await readPayment(orderId)).toMatchObject({
      status: 'refunded',
      refundId: 're_1',
      paymentId: `ch_${orderId}`,
      amount: 25,
    });
  });

  it('markRefunded refuses a payment that does not exist or was declined, and changes nothing', async () => {
    const missing = newOrder().orderId;
    await expect(markRefunded(missing, { refundId: 're_1', refundedAt: 'x' })).rejects.toThrow(
      `payment ${missing}: nothing to mark refunded`,
    );
    expect(await readPayment(missing)).toBeUndefined();
    const { orderId } = newOrder();
    await recordPayment(declined(orderId));
    await expect(markRefunded(orderId, { refundId: 're_1', refundedAt: 'x' })).rejects.toThrow(
      `payment ${orderId} was declined: nothing to refund`,
    );
    expect(await readPayment(orderId)).toMatchObject({ status: 'declined' });
  });

  it('recordLateCharge and markLateChargeRefunded: the first late charge and the first refund stand, on a tombstone only', async () => {
    const { orderId } = newOrder();
    const late = { paymentId: 'ch_1', amount: 5, currency: 'EUR' as const, foundAt: '2026-01-01T00:00:00.000Z' };
    await expect(recordLateCharge(orderId, late)).rejects.toThrow(`payment ${orderId}: no voided payment`);
    await voidPayment(orderId, new Date('2026-01-01T00:00:00.000Z'));
    await expect(markLateChargeRefunded(orderId, { refundId: 're_1', refundedAt: 'x' })).rejects.toThrow(
      `payment ${orderId}: no late charge to mark refunded`,
    );
    expect((await recordLateCharge(orderId, late)).lateCharge).toEqual(late);
    expect((await recordLateCharge(orderId, { ...late, paymentId: 'ch_2' })).lateCharge).toEqual(late);
    const refunded = { refundId: 're_1', refundedAt: '2026-01-02T00:00:00.000Z' };
    expect((await markLateChargeRefunded(orderId, refunded)).lateCharge).toEqual({ ...late, ...refunded });
    expect((await markLateChargeRefunded(orderId, { refundId: 're_2', refundedAt: 'y' })).lateCharge).toEqual({
      ...late,
      ...refunded,
    });
    expect(await readPayment(orderId)).toMatchObject({ status: 'voided', lateCharge: { ...late, ...refunded } });
  });

  it('writeLedgerEntry writes only over the version the caller read: false on a lost create (409) or a stale ETag (412)', async () => {
    const { orderId } = newOrder();
    const key = `${orderId}:charge`;
    expect(await readLedgerEntry(key)).toBeUndefined();
    expect(await writeLedgerEntry(entry(orderId, { status: 'pending' }), undefined)).toBe(true);
    expect(await writeLedgerEntry(entry(orderId, { status: 'declined' }), undefined)).toBe(false);
    const read = await readLedgerEntry(key);
    expect(read).toEqual({ value: expect.objectContaining({ id: key, status: 'pending' }), etag: expect.any(String) });
    expect(await writeLedgerEntry(entry(orderId, { status: 'charged', attempts: 2 }), read!.etag)).toBe(true);
    expect(await writeLedgerEntry(entry(orderId, { status: 'declined' }), read!.etag)).toBe(false);
    const after = await readLedgerEntry(key);
    expect(after?.value).toMatchObject({ status: 'charged', attempts: 2 });
    expect(after?.etag).not.toBe(read!.etag);
  });

  it('writeLedgerEntry lets any other fault through', async () => {
    const { orderId } = newOrder();
    jest.spyOn(Items.prototype, 'create').mockRejectedValueOnce(busy());
    await expect(writeLedgerEntry(entry(orderId), undefined)).rejects.toMatchObject({ code: 503 });
    await writeLedgerEntry(entry(orderId), undefined);
    const { etag } = (await readLedgerEntry(`${orderId}:charge`))!;
    jest.spyOn(Item.prototype, 'replace').mockRejectedValueOnce(busy());
    await expect(writeLedgerEntry(entry(orderId), etag)).rejects.toMatchObject({ code: 503 });
  });

  it('gatewayTotals counts settled charges and refunds of the order only', async () => {
    const { orderId } = newOrder();
    const other = newOrder().orderId;
    const write = (value: LedgerEntry) => writeLedgerEntry(value, undefined);
    await write(entry(orderId, { id: `${orderId}:a`, amount: 10.1 }));
    await write(entry(orderId, { id: `${orderId}:b`, amount: 0.2 }));
    await write(entry(orderId, { id: `${orderId}:c`, amount: 100, status: 'pending' }));
    await write(entry(orderId, { id: `${orderId}:d`, amount: 100, status: 'declined' }));
    await write(entry(orderId, { id: `${orderId}:e`, operation: 'refund', status: 'refunded', amount: 3 }));
    await write(entry(orderId, { id: `${orderId}:f`, operation: 'refund', status: 'pending', amount: 100 }));
    await write(entry(orderId, { id: `${orderId}:g`, operation: 'refund', status: 'charged', amount: 100 }));
    await write(entry(other, { id: `${other}:a`, amount: 1000 }));
    expect(await gatewayTotals(orderId)).toEqual({ charged: 10.3, refunded: 3 });
  });
});
