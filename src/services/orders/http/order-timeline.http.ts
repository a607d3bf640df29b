/**
 * GET /api/orders/{orderId}/timeline: everything the timeline page draws for one order - spans
 * with their attempts, the approval deadline and decision, items, tracking number, dead-letter
 * and repair state. Read from the orchestration's history and the order document (timeline.ts).
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { config } from '../../../libs/config';
import { answering, json } from '../../../libs/http';
import { repairInstanceId } from '../contract';
import type { PlaceOrderInput } from '../order-view';
import { readOrder } from '../repository';
import { buildTimeline, type HistoryEventJson } from '../timeline';
import { findInstanceWithHistory } from './instance';
import { liveView, pickView } from './order-sources';
import { ORDER_ID } from './request-schemas';

/** The durable client binding, kept to read its data (findInstanceWithHistory). */
const durableClient = df.input.durableClient();
const notFound = (orderId: string) => json(404, { orderId, message: 'no such order' });

export async function getOrderTimelineHttp(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const orderId = request.params.orderId ?? '';
  if (!ORDER_ID.test(orderId)) return notFound(orderId);
  const [instance, document, repair] = await Promise.all([
    findInstanceWithHistory(context, durableClient, orderId),
    readOrder(orderId),
    findInstanceWithHistory(context, durableClient, repairInstanceId(orderId)),
  ]);
  // As GET /api/orders/{id}: the live view, unless a repair or a terminate moved the document ahead of it.
  const view = pickView(instance ? liveView(instance) : undefined, document);
  if (!view) return notFound(orderId);
  const history = (instance?.historyEvents ?? []) as HistoryEventJson[];
  // The now-line, on the saga's clock, and never before the latest thing the saga recorded.
  const latest = Math.max(
    config.durableNow(),
    ...history.map((event) => Date.parse(event.Timestamp)).filter(Number.isFinite),
  );
  const timeline = buildTimeline({
    view,
    runtimeStatus: instance?.runtimeStatus,
    // The order as placed: the saga's input, or once it is purged, the same input kept on the order document.
    input: (instance?.input as PlaceOrderInput | undefined) ?? document?.intake?.input,
    history,
    deadLetter: document?.deadLetter,
    repair: repair
      ? {
          runtimeStatus: repair.runtimeStatus,
          lastUpdatedTime: repair.lastUpdatedTime,
          history: repair.historyEvents as HistoryEventJson[],
        }
      : undefined,
    now: new Date(latest),
  });
  return json(200, timeline);
}

app.http('getOrderTimelineHttp', {
  route: 'orders/{orderId}/timeline',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [durableClient],
  handler: answering(getOrderTimelineHttp),
});
