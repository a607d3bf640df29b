/**
 * GET /api/orders/{orderId}: the order's status, step log, compensations and warnings.
 *
 * Two sources: the saga's custom status (live while it runs) and the order document (written at
 * every status change, the only source once the instance is purged, and ahead of the saga after
 * an operator's repair or terminate). While the saga runs, and once it completed, its view answers
 * alone, so a client's polls cost no Cosmos request; once it ended otherwise, or when it cannot be
 * asked, the document is read too. Either one down, the other answers; both down, a 503.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { isUnavailable } from '../../../libs/cosmos';
import { answering, json, unavailable } from '../../../libs/http';
import { repairInstanceId } from '../contract';
import type { OrderStatus, OrderView } from '../order-view';
import { isFinal, isRepairable } from '../order-view';
import { readOrder } from '../repository';
import { findInstance, isRunning } from './instance';
import { liveView, pickView } from './order-sources';
import { ORDER_ID } from './request-schemas';

const notFound = (orderId: string) => json(404, { orderId, message: 'no such order' });

export async function getOrderHttp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const orderId = request.params.orderId ?? '';
  if (!ORDER_ID.test(orderId)) return notFound(orderId);
  const client = df.getClient(context);
  const instance = await settled(findInstance(client, orderId));
  const live = 'value' in instance && instance.value ? liveView(instance.value) : undefined;
  // A saga that runs past its final status still changes the order (a warning, a dead letter).
  const running = 'value' in instance && isRunning(instance.value?.runtimeStatus);
  // While the saga runs, its live view is the order, and a poll costs no Cosmos read (no RU). So
  // does a Completed view: only an operator's terminate or repair puts a final status the saga
  // cannot know of on the document, and neither applies to a completed order.
  if (live && (!isFinal(live.status) || live.status === 'Completed')) return answer(orderId, live, running);
  const document = await settled(readOrder(orderId));
  // Without the saga's view, only the document can tell whether the order exists.
  if (!live && 'error' in document) {
    if (isUnavailable(document.error)) return unavailable('the order cannot be read right now: retry later');
    throw document.error;
  }
  if ('error' in instance && 'error' in document) throw instance.error;
  const stored = 'value' in document ? document.value : undefined;
  const view = pickView(live, stored);
  if (!view) return notFound(orderId);
  // An operator's repair of a dead letter ends in Compensated, or leaves the status as it is: the
  // retry route points at this URL to follow it, so ask again while it runs.
  const open = stored?.deadLetter && stored.deadLetter.state !== 'resolved' && isRepairable(view.status);
  const repairing = open ? await repairRunning(client, orderId) : false;
  return answer(orderId, view, running || repairing);
}

/** Whether the order's repair runs; a status query that fails counts as not (the answer does not fail for it). */
async function repairRunning(client: df.DurableClient, orderId: string): Promise<boolean> {
  const repair = await settled(findInstance(client, repairInstanceId(orderId)));
  return 'value' in repair && isRunning(repair.value?.runtimeStatus);
}

function answer(orderId: string, view: OrderView, running: boolean): HttpResponseInit {
  const { status, total, currency, steps, compensations, warnings, reason, approval } = view;
  const retryAfter = retryAfterSeconds(status, running);
  return json(
    200,
    {
      orderId,
      status,
      total,
      currency,
      steps,
      compensations,
      warnings,
      ...(reason ? { reason } : {}),
      ...(approval ? { approval } : {}),
    },
    retryAfter ? { 'retry-after': String(retryAfter) } : {},
  );
}

/**
 * When a poller should ask again (whole seconds, as the header allows): soon while the saga runs,
 * later while it waits for a person; never once the order is final and nothing runs that can
 * change it. A final status comes before the saga's last acts - committing the stock,
 * dead-lettering, announcing the outcome - and each of them can still add a warning, and an
 * operator's repair can make a dead-lettered order Compensated: while the saga or a repair
 * runs, a final status is asked for again too.
 */
export function retryAfterSeconds(status: OrderStatus, stillRunning = false): number | undefined {
  if (isFinal(status)) return stillRunning ? 1 : undefined;
  return status === 'AwaitingApproval' ? 5 : 1;
}

async function settled<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

app.http('getOrderHttp', {
  route: 'orders/{orderId}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: answering(getOrderHttp),
});
