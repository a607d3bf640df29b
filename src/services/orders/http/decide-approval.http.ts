/**
 * POST /api/orders/{orderId}/approval `{ approved }`: a person approves or rejects a large order.
 *
 * Who decides comes from the client principal (role Orders.Approver), never from the body. Exactly
 * one decision stands: it is written on the order document, first write wins, before the event is
 * raised on the saga. A later decision, or one past the deadline, gets 409 naming the decision
 * that stands; the same person sending the same decision again (a lost reply) gets 202 again.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { authorize, personRouteAuthLevel, Roles } from '../../../libs/client-principal';
import { config } from '../../../libs/config';
import { correlatedLogger } from '../../../libs/correlation';
import { answering, json, readJsonBody } from '../../../libs/http';
import { APPROVAL_EVENT } from '../contract';
import { isTimeout, type ApprovalDecision, type OrderView, type StandingDecision } from '../order-view';
import { readOrder, recordDecision, sameDecision } from '../repository';
import { findInstance, isRunning } from './instance';
import { ApprovalRequest, MAX_BODY_BYTES, ORDER_ID } from './request-schemas';

export async function decideApprovalHttp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const orderId = request.params.orderId ?? '';
  const caller = authorize(request, Roles.approver);
  if (!caller.ok) return caller.response;
  const body = await readJsonBody(request, ApprovalRequest, MAX_BODY_BYTES);
  if (!body.ok) return body.response;
  if (!ORDER_ID.test(orderId)) return json(404, { orderId, message: 'no such order' });

  const client = df.getClient(context);
  // The saga first, the document after: a decision that made the saga move on is on the document by then.
  const live = await waitingFor(client, orderId);
  const order = await readOrder(orderId);
  if (!order) return json(404, { orderId, message: 'no such order' });
  const decision: ApprovalDecision = {
    approved: body.value.approved,
    approver: caller.principal.name,
    // On the saga's clock, which its deadline is on: wall time, but for a sped-up offline host.
    decidedAt: new Date(config.durableNow()).toISOString(),
  };
  const raise = async (standing: ApprovalDecision) => {
    await client.raiseEvent(orderId, APPROVAL_EVENT, standing);
    // Tagged with the order's correlation id, so this line joins the saga's, whatever the caller sent.
    correlatedLogger(context, { correlationId: order.correlationId, orderId }).info('approval decision raised', {
      approved: standing.approved,
      approver: standing.approver,
    });
    return json(202, { orderId, ...standing });
  };
  const stands = async (standing: StandingDecision, { raiseAgain }: { raiseAgain: boolean }) => {
    // A decision that stands while the saga still waits was recorded by a request that died before
    // raising it: raise it now, whoever asks (the saga takes one event only, and settles it with
    // the document anyway). The same person's same decision is a retry of a lost reply: 202 again.
    if (raiseAgain && !isTimeout(standing) && (await waitingFor(client, orderId))) await raise(standing);
    return sameDecision(standing, decision) ? json(202, { orderId, ...standing }) : decided(orderId, standing);
  };
  if (order.approval?.decision) return stands(order.approval.decision, { raiseAgain: true });
  if (!live?.approval)
    return json(409, { orderId, status: live?.status ?? order.status, message: 'the order is not awaiting approval' });
  if (Date.parse(decision.decidedAt) >= Date.parse(live.approval.deadline)) {
    return decided(orderId, { timedOut: true, decidedAt: live.approval.deadline });
  }
  const result = await recordDecision(orderId, decision, live.approval.deadline);
  if (!result) return json(404, { orderId, message: 'no such order' });
  // Lost the race just now: the winner is raising its decision.
  if (!result.recorded) return stands(result.standing, { raiseAgain: false });
  return raise(decision);
}

/** The saga's live view when it is waiting for a decision. */
async function waitingFor(client: df.DurableClient, orderId: string): Promise<OrderView | undefined> {
  const instance = await findInstance(client, orderId);
  const view = instance?.customStatus as OrderView | null | undefined;
  return isRunning(instance?.runtimeStatus) && view?.status === 'AwaitingApproval' ? view : undefined;
}

function decided(orderId: string, standing: StandingDecision): HttpResponseInit {
  const message =
    'timedOut' in standing
      ? 'the approval deadline has passed'
      : `already ${standing.approved ? 'approved' : 'rejected'} by ${standing.approver}`;
  return json(409, { orderId, decision: standing, message });
}

app.http('decideApprovalHttp', {
  route: 'orders/{orderId}/approval',
  methods: ['POST'],
  authLevel: personRouteAuthLevel(),
  extraInputs: [df.input.durableClient()],
  handler: answering(decideApprovalHttp),
});
