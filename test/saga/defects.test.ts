/**
 * Defects on the integration layer: the real activities on a local Cosmos server, whose errors
 * that no retry can cure come back as ActivityDefect values after one attempt, and the saga ends
 * the step on them at once instead of spending the step's retry budget.
 */
import { InvocationContext } from '@azure/functions';
import { factType } from '../../src/libs/events';
import type { OrderTimeline } from '../../src/services/orders/timeline';
import { paymentsActivities } from '../../src/services/payments';
import { recordPayment } from '../../src/services/payments/repository';
import { shippingActivities } from '../../src/services/shipping';
import { orderRequest, uniqueOrderId } from '../support/orders';
import { startSagaApp, type SagaApp } from '../support/saga-app';

const { refundPayment } = paymentsActivities;
const { cancelShipment } = shippingActivities;

let app: SagaApp;
beforeAll(async () => {
  app = await startSagaApp();
});
afterAll(async () => {
  await app?.stop();
});

const quiet = (functionName: string) => new InvocationContext({ functionName, logHandler: () => undefined });
/** The activities the orchestration scheduled, by name, retries included (TaskScheduled is event type 4). */
const scheduled = (instanceId: string) =>
  (app.status(instanceId)?.history ?? []).filter((event) => event.EventType === 4).map((event) => event.Name);

it('a shipment already cancelled is a defect: createShipment runs once and the order is undone', async () => {
  const orderId = uniqueOrderId('defect-ship');
  // A compensation (or an operator) cancelled this order's shipment before the saga got to ship it.
  expect(await cancelShipment({ orderId, correlationId: 'corr-early' }, quiet('cancelShipment'))).toMatchObject({
    wasCreated: false,
  });

  await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
  const view = await app.settleOrder(orderId);
  expect(view.status).toBe('Compensated');
  expect(view.steps.find((step) => step.name === 'ship')).toMatchObject({
    status: 'failed',
    detail: `shipment for order ${orderId} was cancelled; it will not be created again`,
  });
  expect(scheduled(orderId).filter((name) => name === 'createShipment')).toHaveLength(1);
  // The timeline reads the defect out of the completed task: one failed attempt, with its reason.
  const timeline = (await app.http('GET', `/api/orders/${orderId}/timeline`)).json as OrderTimeline;
  expect(timeline.spans.find((span) => span.kind === 'step' && span.name === 'ship')?.attempts).toEqual([
    expect.objectContaining({
      outcome: 'failed',
      error: `shipment for order ${orderId} was cancelled; it will not be created again`,
    }),
  ]);
  expect(view.compensations.map(({ name, status }) => `${name}:${status}`)).toEqual([
    'cancelShipment:skipped',
    'releaseStock:succeeded',
    'retractAnalytics:succeeded',
    'sendCancellation:succeeded',
    'refundPayment:succeeded',
  ]);
});

it('refunding a charge the gateway never made is a defect, answered at once and not thrown', async () => {
  const orderId = uniqueOrderId('defect-refund');
  // The shop believes it charged; the gateway has no such charge.
  await recordPayment({
    id: orderId,
    orderId,
    status: 'charged',
    paymentId: 'ch_lost',
    amount: 10,
    currency: 'EUR',
    recordedAt: new Date().toISOString(),
  });
  expect(await refundPayment({ orderId, correlationId: 'corr-1' }, quiet('refundPayment'))).toEqual({
    type: factType('activities', 'ActivityDefect'),
    activity: 'refundPayment',
    errorType: 'Error',
    reason: `payment gateway: no charge under key ${orderId}:charge to refund`,
    orderId,
    correlationId: 'corr-1',
  });
});
