/**
 * The operator's door to the dead-letter queue (role Orders.Operator; see libs/client-principal.ts):
 *   GET  /api/operations/dead-letters                   the orders waiting for a person
 *   POST /api/operations/dead-letters/{orderId}/retry   run that order's failed compensations again
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { correlatedLogger } from '../../../libs/correlation';
import { authorize, personRouteAuthLevel, Roles } from '../../../libs/client-principal';
import { answering, json, originOf } from '../../../libs/http';
import { REPAIR_ORDER_ORCHESTRATION, repairInstanceId } from '../contract';
import { listDeadLetters } from '../dead-letters';
import type { RepairInput } from '../repair-order.orchestrator';
import { finishEnding } from '../finish-ending';
import { isFinal, type OrderView, type PlaceOrderInput } from '../order-view';
import { readOrder, type OrderDocument } from '../repository';
import { findInstance, isRunning } from './instance';
import { ORDER_ID } from './request-schemas';

export async function listDeadLettersHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = authorize(request, Roles.operator);
  if (!caller.ok) return caller.response;
  const { approximateCount, deadLetters } = await listDeadLetters();
  // A message whose order a repair already resolved may linger on the queue; the order says so.
  const open = [];
  for (const letter of deadLetters)
    if ((await readOrder(letter.orderId))?.deadLetter?.state !== 'resolved') open.push(letter);
  return json(200, {
    approximateCount,
    deadLetters: open.map(({ orderId, correlationId, reason, failed, deadLetteredAt }) => ({
      orderId,
      correlationId,
      reason,
      deadLetteredAt,
      failed: failed.map(({ name, error }) => ({ name, error })),
    })),
  });
}

export async function retryDeadLetterHttp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const orderId = request.params.orderId ?? '';
  const caller = authorize(request, Roles.operator);
  if (!caller.ok) return caller.response;
  const client = df.getClient(context);
  const stored = ORDER_ID.test(orderId) ? await readOrder(orderId) : undefined;
  // The document lacks the letter, or holds it but not the final status: the ending's writes
  // missed the document (an outage), and the saga's instance knows how the order ended.
  const unrecorded = stored && (!stored.deadLetter || !isFinal(stored.status));
  const order = unrecorded ? await finishUnrecordedEnding(client, stored) : stored;
  if (!order?.deadLetter) return json(404, { orderId, message: 'no dead letter for this order' });
  if (order.status !== 'CompensationFailed' && order.status !== 'Terminated')
    return json(409, { orderId, status: order.status, message: 'the order no longer needs a repair' });

  const instanceId = repairInstanceId(orderId);
  const running = await findInstance(client, instanceId);
  if (isRunning(running?.runtimeStatus)) {
    return json(409, { orderId, message: 'a repair of this order is already running' });
  }
  const input: RepairInput = { orderId, correlationId: order.correlationId, failed: order.deadLetter.letter.failed };
  try {
    await client.startNew(REPAIR_ORDER_ORCHESTRATION, { instanceId, input });
  } catch (error) {
    if (await findInstance(client, instanceId))
      return json(409, { orderId, message: 'a repair of this order is already running' });
    throw error;
  }
  // Tagged with the order's correlation id, as the repair's own activities are (its input carries it).
  correlatedLogger(context, { correlationId: order.correlationId, orderId }).info('repair started', {
    failed: input.failed.map((entry) => entry.name),
  });
  const statusUrl = `${originOf(request)}/api/orders/${orderId}`;
  return json(
    202,
    { orderId, repairInstanceId: instanceId, retrying: input.failed.map((entry) => entry.name), statusUrl },
    { location: statusUrl },
  );
}

/**
 * A saga that ended CompensationFailed while the orders database was down past every retry sent
 * its letter (the queue holds it), but the document, which this route goes by, may hold neither
 * the letter nor the status, or the letter and not the status (its record came through, its
 * final writes did not). The saga's final view is on its instance: finish that ending as a
 * terminate does (the final write; the letter recorded as the message the view names, not sent
 * again; the outcome fact sent once more, which consumers take in their stride), then read the
 * order again.
 */
async function finishUnrecordedEnding(client: df.DurableClient, order: OrderDocument): Promise<OrderDocument> {
  const instance = await findInstance(client, order.orderId);
  const view = instance?.customStatus as OrderView | null | undefined;
  if (instance?.runtimeStatus !== 'Completed' || view?.status !== 'CompensationFailed') return order;
  const { order: placed } = (instance.input as PlaceOrderInput | undefined) ?? order.intake!.input;
  await finishEnding(client, { ...view, status: view.status }, placed);
  return (await readOrder(order.orderId)) ?? order;
}

app.http('listDeadLettersHttp', {
  route: 'operations/dead-letters',
  methods: ['GET'],
  authLevel: personRouteAuthLevel(),
  handler: answering<[HttpRequest, InvocationContext]>(listDeadLettersHttp),
});

app.http('retryDeadLetterHttp', {
  route: 'operations/dead-letters/{orderId}/retry',
  methods: ['POST'],
  authLevel: personRouteAuthLevel(),
  extraInputs: [df.input.durableClient()],
  handler: answering(retryDeadLetterHttp),
});
