/**
 * POST /api/orders: accepts an order and starts its saga. Answers 202 at once with the URL to
 * follow; the work happens in the orchestration. The order id is the instance id, so placing
 * the same order twice starts one saga (the second call gets 409 and the same status URL).
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import * as df from 'durable-functions';
import { config } from '../../../libs/config';
import { CORRELATION_HEADER, correlatedLogger, correlationIdFrom } from '../../../libs/correlation';
import { factType, type OrderPlaced } from '../../../libs/events';
import { json, originOf, readJsonBody } from '../../../libs/http';
import { PLACE_ORDER_ORCHESTRATION } from '../contract';
import type { PlaceOrderInput } from '../order-view';
import { findInstance } from './instance';
import { MAX_BODY_BYTES, PlaceOrderRequest } from './request-schemas';

export async function placeOrderHttp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const correlationId = correlationIdFrom(request.headers.get(CORRELATION_HEADER));
  const body = await readJsonBody(request, PlaceOrderRequest, MAX_BODY_BYTES);
  if (!body.ok) return withCorrelation(body.response, correlationId);

  const { orderId = randomUUID(), payment, ...order } = body.value;
  const statusUrl = `${originOf(request)}/api/orders/${orderId}`;
  const client = df.getClient(context);
  const conflict = () => json(409, { orderId, statusUrl, message: 'an order with this id exists already' }, { location: statusUrl, [CORRELATION_HEADER]: correlationId });
  if (await findInstance(client, orderId)) return conflict();

  const placed: OrderPlaced = {
    type: factType('orders', 'OrderPlaced'),
    orderId,
    correlationId,
    customerId: order.customerId,
    customerEmail: order.customerEmail,
    currency: order.currency,
    items: order.items,
    paymentToken: payment.token,
    shippingAddress: order.shippingAddress,
    placedAt: new Date().toISOString(),
  };
  // The policy is fixed when the order is placed: a setting changed later must not change a running saga.
  const input: PlaceOrderInput = {
    order: placed,
    policy: { approvalThreshold: config.approvalThreshold(), approvalTimeoutMs: config.approvalTimeoutMs() },
  };
  try {
    await client.startNew(PLACE_ORDER_ORCHESTRATION, { instanceId: orderId, input });
  } catch (error) {
    // Two identical requests raced past the check above: the loser learns it here.
    if (await findInstance(client, orderId)) return conflict();
    throw error;
  }
  correlatedLogger(context, { correlationId, orderId }).info('order accepted');
  return json(202, { orderId, correlationId, statusUrl }, { location: statusUrl, [CORRELATION_HEADER]: correlationId });
}

function withCorrelation(response: HttpResponseInit, correlationId: string): HttpResponseInit {
  return { ...response, headers: { ...(response.headers as Record<string, string>), [CORRELATION_HEADER]: correlationId } };
}

app.http('placeOrderHttp', {
  route: 'orders',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: placeOrderHttp,
});
