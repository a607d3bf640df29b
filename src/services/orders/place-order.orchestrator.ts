/**
 * placeOrder: the order saga.
 *
 *   validate ─► [large order] approval ⟷ timeout ─► pay ─► { reserve* | confirm | analytics } ─► ship ─► commit stock
 *                                                                 * critical
 * When a critical step fails, every step that did (or may have done) its work is undone, newest
 * first. Each step's undo is declared beside it in `orderSteps`; the orchestrator below runs them.
 *
 * The orchestrator decides; the activities act. It does no I/O, reads no clock and draws no
 * random numbers of its own, so that it replays to the same decisions every time.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import * as z from 'zod';
import {
  AddressRejected,
  CancellationSent,
  ConfirmationBounced,
  ConfirmationSent,
  isFact,
  OrderValidated,
  PaymentCharged,
  PaymentDeclined,
  PaymentRefunded,
  PaymentVoided,
  ShipmentCreated,
  StockReserved,
  StockUnavailable,
  type OrderPlaced,
} from '../../libs/events';
import { isPrincipalName } from '../../libs/client-principal';
import { AnalyticsContract } from '../analytics/contract';
import { InventoryContract } from '../inventory/contract';
import { NotificationsContract } from '../notifications/contract';
import { PaymentsContract } from '../payments/contract';
import { ShippingContract } from '../shipping/contract';
import { APPROVAL_EVENT, OrdersContract, PLACE_ORDER_ORCHESTRATION } from './contract';
import {
  isTimeout,
  listText,
  PlaceOrderInput,
  type ApprovalDecision,
  type OrderView,
  type StandingDecision,
  type StepName,
} from './order-view';
import { RetryPolicies as retry } from './retry-policies';
import { type Durable, OrderSaga, step, undo, type Undo } from './saga';

/**
 * The saga's steps, each with its undo beside it. An undo's command comes from the order alone,
 * so what a terminated saga still owes is named from these same declarations (`undosOf`).
 * A step owes its undo once it acted (`acted`; every result, unless said) or failed and may have.
 */
export function orderSteps(order: OrderPlaced) {
  const ids = { orderId: order.orderId, correlationId: order.correlationId };
  return {
    validate: step({ name: 'validate', activity: OrdersContract.validate, retry: retry.validate, critical: true }),
    pay: step({
      name: 'pay',
      activity: PaymentsContract.charge,
      retry: retry.pay,
      critical: true,
      acted: (charge) => isFact(PaymentCharged, charge),
      undo: undo('refundPayment', PaymentsContract.refund, ids, (refund) => isFact(PaymentRefunded, refund)),
    }),
    reserve: step({
      name: 'reserve',
      activity: InventoryContract.reserve,
      retry: retry.reserve,
      critical: true,
      acted: (stock) => isFact(StockReserved, stock),
      undo: undo(
        'releaseStock',
        InventoryContract.release,
        { ...ids, lines: order.items },
        (release) => release.released.length > 0,
      ),
    }),
    confirm: step({
      name: 'confirm',
      activity: NotificationsContract.sendConfirmation,
      retry: retry.notification,
      critical: false,
      acted: (email) => isFact(ConfirmationSent, email),
      warning: (email) => (isFact(ConfirmationBounced, email) ? email.reason : undefined),
      undo: undo(
        'sendCancellation',
        NotificationsContract.sendCancellation,
        { ...ids, customerEmail: order.customerEmail, reason: 'order cancelled' },
        (email) => isFact(CancellationSent, email),
      ),
    }),
    analytics: step({
      name: 'analytics',
      activity: AnalyticsContract.record,
      retry: retry.analytics,
      critical: false,
      undo: undo('retractAnalytics', AnalyticsContract.retract, ids, (retraction) => retraction.wasRecorded),
    }),
    ship: step({
      name: 'ship',
      activity: ShippingContract.create,
      retry: retry.ship,
      critical: true,
      acted: (shipment) => isFact(ShipmentCreated, shipment),
      undo: undo('cancelShipment', ShippingContract.cancel, ids, (cancellation) => cancellation.wasCreated),
    }),
  };
}

export function* placeOrder(context: OrchestrationContext): Durable<OrderView> {
  // Parsed once on entry: a malformed input fails the instance here, before any step ran.
  const input = PlaceOrderInput.safeParse(context.df.getInput());
  if (!input.success) throw new Error(`placeOrder: malformed input: ${z.prettifyError(input.error)}`);
  const { order, policy } = input.data;
  const ids = { orderId: order.orderId, correlationId: order.correlationId };
  const steps = orderSteps(order);
  // Typed explicitly so that `saga.reject(...)` (which never returns) narrows the results below.
  const saga: OrderSaga = new OrderSaga(context, ids, order.currency);

  try {
    // 1. Validate: prices and totals come from the catalog, never from the client.
    const validation = yield* saga.run(steps.validate, order);
    // Up to 50 lines may each be wrong: the view names as many as fit, and how many there are.
    if (!isFact(OrderValidated, validation)) saga.reject('validate', listText(validation.reasons));
    const { lines, total, currency } = validation;
    saga.priced(total);

    // 2. A large order waits for a person, but not forever. The order document decides which
    //    decision stands (the first one recorded, or the timeout), so the saga and the document agree.
    if (total >= policy.approvalThreshold) {
      const waited = yield* saga.awaitDecision(
        'approval',
        APPROVAL_EVENT,
        policy.approvalTimeoutMs,
        wellFormedDecision,
      );
      const proposed: StandingDecision =
        'decision' in waited ? waited.decision : { timedOut: true, decidedAt: waited.deadline };
      const settled = yield* saga.ask(OrdersContract.settleApproval, retry.progress, {
        ...ids,
        proposed,
        deadline: saga.view.approval?.deadline,
      });
      // The document cannot be reached: the saga's own view is all there is to go on.
      if (settled.kind === 'failed')
        saga.warn('approval', `decision not recorded on the order: ${settled.failure.message}`);
      const decision = settled.kind === 'succeeded' ? settled.value : proposed;
      saga.decided('approval', decision);
      if (isTimeout(decision)) saga.reject('approval', 'no approval decision before the timeout');
      if (!decision.approved) saga.reject('approval', `rejected by ${decision.approver}`);
    }

    // 3. Take the money.
    yield* saga.moveTo('Paying');
    const payment = yield* saga.run(steps.pay, { ...ids, amount: total, currency, paymentToken: order.paymentToken });
    if (isFact(PaymentDeclined, payment)) saga.reject('pay', `payment declined: ${payment.reason}`);
    // The order's refund ran first (an operator's terminate or repair): it must not go on as paid.
    if (isFact(PaymentVoided, payment)) saga.reject('pay', `payment voided: ${payment.reason}`);

    // 4. Fulfil in parallel. Stock is critical; the email and the analytics fact are not.
    yield* saga.moveTo('Fulfilling');
    const items = lines.map(({ sku, quantity }) => ({ sku, quantity }));
    const [stock] = yield* saga.parallel([
      saga.branch(steps.reserve, { ...ids, lines: items }),
      saga.branch(steps.confirm, { ...ids, customerEmail: order.customerEmail, total, currency, lines }),
      saga.branch(steps.analytics, { ...ids, customerId: order.customerId, total, currency, lines }),
    ]);
    if (isFact(StockUnavailable, stock)) {
      saga.reject('reserve', `out of stock: ${stock.sku} (requested ${stock.requested}, available ${stock.available})`);
    }

    // 5. Ship.
    yield* saga.moveTo('Shipping');
    const shipment = yield* saga.run(steps.ship, { ...ids, address: order.shippingAddress, lines: items });
    if (isFact(AddressRejected, shipment)) saga.reject('ship', `address rejected: ${shipment.reason}`);

    // 6. The sale is final: the order's holds become sold units, beside the Completed write.
    const commit = saga.call(InventoryContract.commit, retry.commit, { ...ids, lines: items });
    yield* saga.complete([{ name: 'commit stock', task: commit }]);
  } catch (failure) {
    yield* saga.abort(failure);
  }
  // 7. Announce the ending to whoever listens; nothing here waits for them.
  yield* saga.announce(order.customerId);
  // 8. Warnings the ending added after the final status (commit, dead letter, announcement) go to
  //    the order document too: one more write, only when there are such warnings.
  yield* saga.recordLateWarnings();
  return saga.view;
}

const ApprovalDecisionEvent = z.strictObject({
  approved: z.boolean(),
  approver: z.string().trim().refine(isPrincipalName),
  decidedAt: z.iso.datetime({ offset: true }),
});

/** Only a decision with a boolean, a named approver and a time counts; anything else is no decision. */
function wellFormedDecision(event: unknown): ApprovalDecision | undefined {
  const parsed = ApprovalDecisionEvent.safeParse(event);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The undo each step declares, by step: what an operator's terminate (terminate-order.http.ts)
 * hands to the dead-letter queue for a step the saga can no longer undo itself.
 */
export function undosOf(order: OrderPlaced): Map<StepName, Undo> {
  const undos = new Map<StepName, Undo>();
  for (const declared of Object.values(orderSteps(order))) if (declared.undo) undos.set(declared.name, declared.undo);
  return undos;
}

df.app.orchestration(PLACE_ORDER_ORCHESTRATION, placeOrder);
