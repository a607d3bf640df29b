/** POST /api/orders/{orderId}/approval: a person approves or rejects a large order. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { CORRELATION_HEADER, correlatedLogger, correlationIdFrom } from '../../../libs/correlation';
import { json, readJsonBody } from '../../../libs/http';
import { APPROVAL_EVENT } from '../contract';
import type { ApprovalDecision, OrderView } from '../order-view';
import { findInstance } from './instance';
import { ApprovalRequest, MAX_BODY_BYTES, ORDER_ID } from './request-schemas';

export async function decideApprovalHttp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const orderId = request.params.orderId ?? '';
  const body = await readJsonBody(request, ApprovalRequest, MAX_BODY_BYTES);
  if (!body.ok) return body.response;
  if (!ORDER_ID.test(orderId)) return json(404, { orderId, message: 'no such order' });

  const client = df.getClient(context);
  const instance = await findInstance(client, orderId);
  if (!instance) return json(404, { orderId, message: 'no such order' });
  const status = (instance.customStatus as OrderView | null)?.status;
  if (status !== 'AwaitingApproval') {
    return json(409, { orderId, status: status ?? 'Pending', message: 'the order is not awaiting approval' });
  }
  const decision: ApprovalDecision = { approved: body.value.approved, approver: body.value.approver };
  await client.raiseEvent(orderId, APPROVAL_EVENT, decision);
  const correlationId = correlationIdFrom(request.headers.get(CORRELATION_HEADER));
  correlatedLogger(context, { correlationId, orderId }).info('approval decision raised', { approved: decision.approved });
  return json(202, { orderId, approved: decision.approved });
}

app.http('decideApprovalHttp', {
  route: 'orders/{orderId}/approval',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: decideApprovalHttp,
});
