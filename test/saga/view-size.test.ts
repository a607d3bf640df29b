/**
 * The saga publishes its whole OrderView as custom status on every change, and the Durable
 * extension fails an orchestration whose custom status is over 16 KB of UTF-16 JSON (the engine
 * enforces the same limit: test/engine/status-limit.test.ts). So the view must stay well under it
 * whatever the input: here the largest view the saga can build, on the middle layer.
 */
import { customStatusLength } from '../../local/engine/custom-status';
import { clipText, listText, VIEW_TEXT_MAX, type OrderView } from '../../src/services/orders/order-view';
import { defective, fact, ids, placeOrderInput, startStubbedSaga, type StubbedSaga } from '../support/stubbed-saga';

let saga: StubbedSaga | undefined;
afterEach(async () => {
  await saga?.stop();
  saga = undefined;
});

/** Every character of it doubles or grows sixfold in JSON. */
const HOSTILE = '"\\\u0001\u2028'.repeat(2000);
const utf16Bytes = (value: unknown) => customStatusLength(value) * 2;

describe('clipping the free text of the view', () => {
  it('keeps a text that fits, and clips a longer one to the bound with "…", counting JSON escapes', () => {
    expect(clipText('unknown sku NO-SUCH-SKU')).toBe('unknown sku NO-SUCH-SKU');
    const clipped = clipText(HOSTILE);
    expect(clipped.endsWith('…')).toBe(true);
    expect(customStatusLength(clipped) - 2).toBeLessThanOrEqual(VIEW_TEXT_MAX);
    expect(clipped.length).toBeLessThan(VIEW_TEXT_MAX / 2);
    expect(clipText('x'.repeat(VIEW_TEXT_MAX))).toBe('x'.repeat(VIEW_TEXT_MAX));
    expect(clipText('x'.repeat(VIEW_TEXT_MAX + 1))).toBe(`${'x'.repeat(VIEW_TEXT_MAX - 1)}…`);
  });

  it('never splits a surrogate pair', () => {
    expect(clipText('😀'.repeat(200), 9)).toBe('😀😀😀😀…');
  });

  it('lists as many reasons as fit, and how many there are', () => {
    expect(listText(['unknown sku A', 'we do not ship to XX'])).toBe('unknown sku A; we do not ship to XX');
    const skus = Array.from(
      { length: 50 },
      (_, index) => `unknown sku ${'S'.repeat(62)}${String(index).padStart(2, '0')}`,
    );
    const text = listText(skus);
    expect(text).toMatch(/^unknown sku S{62}00(; unknown sku S{62}\d\d)*; … \(50 in all\)$/);
    expect(text.length).toBeLessThanOrEqual(VIEW_TEXT_MAX);
    expect(text.length).toBeGreaterThan(VIEW_TEXT_MAX - 'unknown sku '.length - 64 - 2);
    expect(listText([HOSTILE, HOSTILE]).endsWith('…; … (2 in all)')).toBe(true);
  });
});

describe('the largest view the saga can publish', () => {
  it('stays under 12 KB of UTF-16 JSON: every step and compensation failing with a long error, every warning it can add, an approval', async () => {
    const longError = defective(HOSTILE);
    saga = await startStubbedSaga({
      validateOrder: () =>
        fact('orders', 'OrderValidated', {
          lines: Array.from({ length: 50 }, (_, index) => ({
            sku: `${'S'.repeat(62)}${String(index).padStart(2, '0')}`,
            quantity: 1000,
            name: HOSTILE,
            unitPrice: 99999.99,
            lineTotal: 99999990,
          })),
          total: 4999999500,
          currency: 'EUR',
        }),
      settleApproval: longError,
      recordOrderProgress: longError,
      sendConfirmation: longError,
      recordOrderFact: longError,
      createShipment: longError,
      cancelShipment: longError,
      releaseStock: longError,
      retractOrderFact: longError,
      sendCancellation: longError,
      refundPayment: longError,
      deadLetterOrder: longError,
      publishOrderOutcome: longError,
    });
    const input = placeOrderInput();
    input.order.orderId = 'o'.repeat(64);
    input.order.correlationId = 'c'.repeat(128);
    await saga.start(input, { fastForward: false });
    // The longest approver a decision may name, of characters that double in JSON (control
    // characters are no name: isPrincipalName).
    await saga.approve({ approved: true, approver: '"'.repeat(256) });

    const status = saga.engine.getStatus(ids.orderId)!;
    expect(status.runtimeStatus).toBe('Completed');
    const view = status.output as OrderView;
    expect(view.status).toBe('CompensationFailed');
    expect(view.steps.map((step) => step.name)).toEqual([
      'validate',
      'approval',
      'pay',
      'reserve',
      'confirm',
      'analytics',
      'ship',
    ]);
    expect(view.compensations).toHaveLength(5);
    expect(view.compensations.every((entry) => entry.detail?.endsWith('…'))).toBe(true);
    // Approval, confirm, analytics, seven progress writes, dead letter, announcement, the last write.
    expect(view.warnings.length).toBeGreaterThanOrEqual(12);
    expect(status.customStatus).toEqual(view);
    expect(utf16Bytes(view)).toBeLessThan(12 * 1024);
  });
});
