/**
 * Which view of an order a reader shows, from its two sources: the saga's custom status and the
 * order document. GET /api/orders/{id} and the timeline choose alike, so they never disagree.
 */
import * as df from 'durable-functions';
import type { OrderView, PlaceOrderInput } from '../order-view';
import { isFinal, isRepairable } from '../order-view';
import type { OrderDocument } from '../repository';

/** What either status query tells of an instance (the SDK's getStatus, or the one with history). */
export interface InstanceSource {
  runtimeStatus: string;
  input?: unknown;
  customStatus?: unknown;
}

/**
 * The saga's view, as its instance tells it. An instance that was terminated or crashed never
 * wrote a final status of its own: its last in-flight status is not the order's.
 */
export function liveView(instance: InstanceSource): OrderView {
  const input = instance.input as PlaceOrderInput;
  const view = (instance.customStatus as OrderView | null | undefined) ?? {
    orderId: input.order.orderId,
    correlationId: input.order.correlationId,
    status: 'Pending',
    total: null,
    currency: input.order.currency,
    steps: [],
    compensations: [],
    warnings: [],
  };
  if (instance.runtimeStatus === df.OrchestrationRuntimeStatus.Terminated && !isFinal(view.status)) {
    return { ...view, status: 'Terminated', reason: 'the saga was terminated' };
  }
  if (instance.runtimeStatus === df.OrchestrationRuntimeStatus.Failed && !isFinal(view.status)) {
    return { ...view, status: 'Failed', reason: 'the saga failed unexpectedly' };
  }
  return view;
}

/**
 * The document wins when it holds a final status the saga cannot know of (an operator's terminate,
 * or the repair that followed a dead letter: of a CompensationFailed saga, or of a terminated one)
 * or when there is no saga to ask; otherwise the saga's live view does.
 */
export function pickView(live: OrderView | undefined, stored: OrderDocument | undefined): OrderView | undefined {
  if (!live) return stored;
  if (!stored) return live;
  const repaired = stored.status === 'Compensated' && isRepairable(live.status);
  if (stored.status === 'Terminated' || repaired) return stored;
  return live.approval || !stored.approval ? live : { ...live, approval: stored.approval };
}
