/** GET /api/orders/{orderId}: the order's status, step log, compensations and warnings. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { json } from '../../../libs/http';
import type { OrderStatus, OrderView, PlaceOrderInput } from '../order-view';
import { isFinal } from '../order-view';
import { readOrder } from '../repository';
import { findInstance } from './instance';
import { ORDER_ID } from './request-schemas';

const notFound = (orderId: string) => json(404, { orderId, message: 'no such order' });

export async function getOrderHttp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const orderId = request.params.orderId ?? '';
  if (!ORDER_ID.test(orderId)) return notFound(orderId);
  const instance = await findInstance(df.getClient(context), orderId);
  // The saga's custom status is the live view. The order document outlives a purged instance, and
  // is ahead of the saga once an operator repaired a CompensationFailed order.
  let view: OrderView | undefined = instance ? liveView(instance) : await readOrder(orderId);
  if (view?.status === 'CompensationFailed' && instance) view = (await readOrder(orderId)) ?? view;
  if (!view) return notFound(orderId);
  const { status, total, currency, steps, compensations, warnings, reason } = view;
  const retryAfter = retryAfterSeconds(status);
  return json(200, { orderId, status, total, currency, steps, compensations, warnings, ...(reason ? { reason } : {}) }, retryAfter ? { 'retry-after': String(retryAfter) } : {});
}

/**
 * When a poller should ask again (whole seconds, as the header allows): soon while the saga runs,
 * later while it waits for a person; never once the order is final (it will not change).
 */
export function retryAfterSeconds(status: OrderStatus): number | undefined {
  if (isFinal(status)) return undefined;
  return status === 'AwaitingApproval' ? 5 : 1;
}

function liveView(instance: df.DurableOrchestrationStatus): OrderView {
  const input = instance.input as PlaceOrderInput;
  const view = (instance.customStatus as OrderView | null) ?? {
    orderId: input.order.orderId,
    correlationId: input.order.correlationId,
    status: 'Pending',
    total: null,
    currency: input.order.currency,
    steps: [],
    compensations: [],
    warnings: [],
  };
  const stopped = instance.runtimeStatus === df.OrchestrationRuntimeStatus.Failed || instance.runtimeStatus === df.OrchestrationRuntimeStatus.Terminated;
  if (stopped && !isFinal(view.status)) return { ...view, status: 'Failed', reason: `the saga ${instance.runtimeStatus.toLowerCase()} unexpectedly` };
  return view;
}

app.http('getOrderHttp', {
  route: 'orders/{orderId}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: getOrderHttp,
});
