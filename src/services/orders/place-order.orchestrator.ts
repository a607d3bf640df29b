/**
 * placeOrder: the order saga.
 *
 *   validate ─► [large order] approval ⟷ timeout ─► pay ─► { reserve* | confirm | analytics } ─► ship ─► commit stock
 *                                                                 * critical
 * When a critical step fails, every step that succeeded is undone, newest first.
 *
 * The orchestrator decides; the activities act. It does no I/O, reads no clock and draws no
 * random numbers of its own, so that it replays to the same decisions every time.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import * as z from 'zod';
import {
  AddressRejected,
  CancellationNotNeeded,
  CancellationSent,
  ConfirmationBounced,
  ConfirmationSent,
  isFact,
  OrderInvalid,
  OrderPlaced,
  OrderRecorded,
  OrderRetracted,
  OrderValidated,
  PaymentCharged,
  PaymentDeclined,
  PaymentRefunded,
  RefundNotNeeded,
  ShipmentCancelled,
  ShipmentCreated,
  StockReleased,
  StockReserved,
  StockUnavailable,
} from '../../libs/events';
import { AnalyticsActivities } from '../analytics/contract';
import { InventoryActivities } from '../inventory/contract';
import { NotificationsActivities } from '../notifications/contract';
import { PaymentsActivities } from '../payments/contract';
import { ShippingActivities } from '../shipping/contract';
import { APPROVAL_EVENT, OrdersActivities, PLACE_ORDER_ORCHESTRATION } from './contract';
import { isTimeout, type ApprovalDecision, type CompensationName, type OrderView, type PlaceOrderInput, type StandingDecision } from './order-view';
import { RetryPolicies as retry } from './retry-policies';
import { type Compensation, type Durable, OrderSaga } from './saga';

export function* placeOrder(context: OrchestrationContext): Durable<OrderView> {
  const { order, policy } = context.df.getInput<PlaceOrderInput>();
  const ids = { orderId: order.orderId, correlationId: order.correlationId };
  // Typed explicitly so that `saga.reject(...)` (which never returns) narrows the results below.
  const saga: OrderSaga = new OrderSaga(context, ids, order.currency);
  const undo = compensationsFor(saga, order);

  try {
    // 1. Validate: prices and totals come from the catalog, never from the client.
    const validation = yield* saga.step<OrderValidated | OrderInvalid>('validate', saga.call(OrdersActivities.validate, retry.validate, order));
    if (!isFact(OrderValidated, validation)) saga.reject('validate', validation.reasons.join('; '));
    const { lines, total, currency } = validation;
    saga.priced(total);

    // 2. A large order waits for a person, but not forever. The order document decides which
    //    decision stands (the first one recorded, or the timeout), so the saga and the document agree.
    if (total >= policy.approvalThreshold) {
      const waited = yield* saga.awaitDecision('approval', APPROVAL_EVENT, policy.approvalTimeoutMs, wellFormedDecision);
      const proposed: StandingDecision = 'decision' in waited ? waited.decision : { timedOut: true, decidedAt: waited.deadline };
      let decision = proposed;
      try {
        decision = (yield saga.call(OrdersActivities.settleApproval, retry.progress, { ...ids, proposed, deadline: saga.view.approval?.deadline })) as StandingDecision;
      } catch (error) {
        // The document cannot be reached: the saga's own view is all there is to go on.
        saga.warn('approval', `decision not recorded on the order: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      }
      saga.decided('approval', decision);
      if (isTimeout(decision)) saga.reject('approval', 'no approval decision before the timeout');
      if (!decision.approved) saga.reject('approval', `rejected by ${decision.approver}`);
    }

    // 3. Take the money.
    yield* saga.moveTo('Paying');
    const charge = saga.call(PaymentsActivities.charge, retry.pay, { ...ids, amount: total, currency, paymentToken: order.paymentToken });
    const payment = yield* saga.step<PaymentCharged | PaymentDeclined>('pay', charge, { undo: undo.refundPayment });
    if (isFact(PaymentDeclined, payment)) saga.reject('pay', `payment declined: ${payment.reason}`);
    saga.onUndo(undo.refundPayment);

    // 4. Fulfil in parallel. Stock is critical; the email and the analytics fact are not.
    yield* saga.moveTo('Fulfilling');
    const items = lines.map(({ sku, quantity }) => ({ sku, quantity }));
    const [stock, confirmation, analytics] = yield* saga.parallel<[StockReserved | StockUnavailable, ConfirmationSent | ConfirmationBounced, OrderRecorded]>([
      ['reserve', saga.call(InventoryActivities.reserve, retry.reserve, { ...ids, lines: items })],
      ['confirm', saga.call(NotificationsActivities.sendConfirmation, retry.notification, { ...ids, customerEmail: order.customerEmail, total, currency, lines })],
      ['analytics', saga.call(AnalyticsActivities.record, retry.analytics, { ...ids, customerId: order.customerId, total, currency, lines })],
    ]);
    // A branch that did its work, or faulted partway and may have, is undone if the order fails.
    if (!confirmation.ok || isFact(ConfirmationSent, confirmation.value)) saga.onUndo(undo.sendCancellation);
    if (!analytics.ok || isFact(OrderRecorded, analytics.value)) saga.onUndo(undo.retractAnalytics);
    if (!stock.ok || isFact(StockReserved, stock.value)) saga.onUndo(undo.releaseStock);

    if (!confirmation.ok) saga.warn('confirm', confirmation.error);
    else if (isFact(ConfirmationBounced, confirmation.value)) saga.warn('confirm', confirmation.value.reason);
    if (!analytics.ok) saga.warn('analytics', analytics.error);
    if (!stock.ok) saga.fault('reserve', stock.error);
    if (isFact(StockUnavailable, stock.value)) {
      const { sku, requested, available } = stock.value;
      saga.reject('reserve', `out of stock: ${sku} (requested ${requested}, available ${available})`);
    }

    // 5. Ship.
    yield* saga.moveTo('Shipping');
    const create = saga.call(ShippingActivities.create, retry.ship, { ...ids, address: order.shippingAddress, lines: items });
    const shipment = yield* saga.step<ShipmentCreated | AddressRejected>('ship', create, { undo: undo.cancelShipment });
    if (isFact(AddressRejected, shipment)) saga.reject('ship', `address rejected: ${shipment.reason}`);

    // 6. The sale is final: the order's holds become sold units, beside the Completed write.
    const commit = saga.call(InventoryActivities.commit, retry.commit, { ...ids, lines: items });
    yield* saga.complete([{ name: 'commit stock', task: commit }]);
  } catch (failure) {
    yield* saga.abort(failure);
  }
  // 7. Announce the ending to whoever listens; nothing here waits for them.
  yield* saga.announce(order.customerId);
  return saga.view;
}

const ApprovalDecisionEvent = z.strictObject({
  approved: z.boolean(),
  approver: z.string().trim().min(1).max(256),
  decidedAt: z.iso.datetime({ offset: true }),
});

/** Only a decision with a boolean, a named approver and a time counts; anything else is no decision. */
function wellFormedDecision(event: unknown): ApprovalDecision | undefined {
  const parsed = ApprovalDecisionEvent.safeParse(event);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Which activity undoes each step, with which input. Also what an operator's terminate hands to
 * the dead-letter queue for a step the saga can no longer undo itself.
 */
export function undoCommands(order: OrderPlaced): Record<CompensationName, { activity: string; input: unknown }> {
  const ids = { orderId: order.orderId, correlationId: order.correlationId };
  return {
    refundPayment: { activity: PaymentsActivities.refund, input: ids },
    releaseStock: { activity: InventoryActivities.release, input: { ...ids, lines: order.items } },
    sendCancellation: { activity: NotificationsActivities.sendCancellation, input: { ...ids, customerEmail: order.customerEmail, reason: 'order cancelled' } },
    retractAnalytics: { activity: AnalyticsActivities.retract, input: ids },
    cancelShipment: { activity: ShippingActivities.cancel, input: ids },
  };
}

/** How to undo each step; each answer says whether there was anything to undo. */
function compensationsFor(saga: OrderSaga, order: OrderPlaced): Record<CompensationName, Compensation> {
  const commands = undoCommands(order);
  const compensation = (name: CompensationName, undid: (result: never) => boolean): Compensation => ({
    name,
    ...commands[name],
    start: () => saga.call(commands[name].activity, retry.compensation, commands[name].input),
    undid: undid as (result: unknown) => boolean,
  });
  return {
    refundPayment: compensation('refundPayment', (result: PaymentRefunded | RefundNotNeeded) => isFact(PaymentRefunded, result)),
    releaseStock: compensation('releaseStock', (result: StockReleased) => result.released.length > 0),
    sendCancellation: compensation('sendCancellation', (result: CancellationSent | CancellationNotNeeded) => isFact(CancellationSent, result)),
    retractAnalytics: compensation('retractAnalytics', (result: OrderRetracted) => result.wasRecorded),
    cancelShipment: compensation('cancelShipment', (result: ShipmentCancelled) => result.wasCreated),
  };
}

df.app.orchestration(PLACE_ORDER_ORCHESTRATION, placeOrder);
