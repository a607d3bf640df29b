/**
 * POST /api/orders: accepts an order and starts its saga. Answers 202 at once with the URL to
 * follow; the work happens in the orchestration.
 *
 * The order document, not the durable instance, is the order's identity. It is created first,
 * with a create that fails on an existing id, and only the request that created it starts the
 * saga. A repeat of the same body (a client retrying a reply it lost) gets the same answer once
 * the saga exists: it waits out the creator's start (a few seconds at most), and starts the saga
 * itself if a crash came between the create and the start; another body under that id
 * gets 409. This holds concurrently, and after the saga finished, was purged or terminated,
 * whatever the durable backend does with a start of an existing instance id.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { createHash } from 'node:crypto';
import * as df from 'durable-functions';
import { config } from '../../../libs/config';
import { isUnavailable } from '../../../libs/cosmos';
import { CORRELATION_HEADER, correlatedLogger, correlationIdFrom } from '../../../libs/correlation';
import { factType, type OrderPlaced } from '../../../libs/events';
import { answering, json, originOf, readJsonBody, unavailable } from '../../../libs/http';
import { PLACE_ORDER_ORCHESTRATION } from '../contract';
import type { PlaceOrderInput } from '../order-view';
import { createOrder, type OrderDocument } from '../repository';
import { findInstance } from './instance';
import { MAX_BODY_BYTES, PlaceOrderRequest } from './request-schemas';

/**
 * How long after the order was accepted a repeat leaves the start to the request that created it
 * (which is most likely still starting it); after that, a repeat starts a saga that never started.
 */
const START_GRACE_MS = 5_000;
const START_POLL_MS = 100;

export async function placeOrderHttp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const requestedCorrelationId = correlationIdFrom(request.headers.get(CORRELATION_HEADER));
  const body = await readJsonBody(request, PlaceOrderRequest, MAX_BODY_BYTES);
  if (!body.ok) return withCorrelation(body.response, requestedCorrelationId);

  const { orderId, payment, ...order } = body.value;
  const statusUrl = `${originOf(request)}/api/orders/${orderId}`;
  const now = new Date();
  const placed: OrderPlaced = {
    type: factType('orders', 'OrderPlaced'),
    orderId,
    correlationId: requestedCorrelationId,
    customerId: order.customerId,
    customerEmail: order.customerEmail,
    currency: order.currency,
    items: order.items,
    paymentToken: payment.token,
    shippingAddress: order.shippingAddress,
    placedAt: now.toISOString(),
  };
  // The policy is fixed when the order is placed: a setting changed later must not change a running saga.
  const input: PlaceOrderInput = {
    order: placed,
    policy: { approvalThreshold: config.approvalThreshold(), approvalTimeoutMs: config.approvalTimeoutMs() },
  };

  let intake: { created: boolean; order: OrderDocument };
  try {
    intake = await createOrder(input, bodyHash(body.value), now);
  } catch (error) {
    if (!isUnavailable(error)) throw error;
    return withCorrelation(
      unavailable('the orders database is unavailable: nothing was started, retry later'),
      requestedCorrelationId,
    );
  }
  const stored = intake.order;
  const correlationId = stored.correlationId;
  const accepted = () =>
    json(202, { orderId, correlationId, statusUrl }, { location: statusUrl, [CORRELATION_HEADER]: correlationId });
  const log = correlatedLogger(context, { correlationId, orderId });

  if (!intake.created && stored.intake?.bodyHash !== bodyHash(body.value)) {
    return json(
      409,
      { orderId, statusUrl, message: 'an order with this id exists already, with another body' },
      { location: statusUrl, [CORRELATION_HEADER]: requestedCorrelationId },
    );
  }
  const client = df.getClient(context);
  if (intake.created) {
    await startSaga(client, stored);
    log.info('order accepted');
    return accepted();
  }
  // The same body again. Only an order that is still Accepted may need its saga started, and the
  // answer is 202 only once it has: a repeat never promises a saga that nothing will start.
  const graceEnds = Date.parse(stored.intake!.acceptedAt) + START_GRACE_MS;
  if (stored.status === 'Accepted' && !(await sagaStartedBy(client, orderId, graceEnds))) {
    await startSaga(client, stored);
    log.warn('order accepted earlier but its saga had not started: started now');
  }
  return accepted();
}

/** Whether the order's saga exists by `deadline` (looked for at least once): started by the request that created it. */
async function sagaStartedBy(client: df.DurableClient, orderId: string, deadline: number): Promise<boolean> {
  for (;;) {
    if (await findInstance(client, orderId)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(START_POLL_MS, deadline - Date.now())));
  }
}

/**
 * Starts the order's saga from the input stored with it. A start that fails because the instance
 * exists (a concurrent repeat got there first) is fine; the backend's answer to that differs
 * (an error on the Durable extension), so it is the instance's presence that is checked.
 */
async function startSaga(client: df.DurableClient, order: OrderDocument): Promise<void> {
  try {
    await client.startNew(PLACE_ORDER_ORCHESTRATION, { instanceId: order.orderId, input: order.intake!.input });
  } catch (error) {
    if (await findInstance(client, order.orderId)) return;
    throw error;
  }
}

/** SHA-256 of the parsed request with its keys sorted: the same order in any key order is the same body. */
export function bodyHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function withCorrelation(response: HttpResponseInit, correlationId: string): HttpResponseInit {
  return {
    ...response,
    headers: { ...(response.headers as Record<string, string>), [CORRELATION_HEADER]: correlationId },
  };
}

app.http('placeOrderHttp', {
  route: 'orders',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: answering(placeOrderHttp),
});
