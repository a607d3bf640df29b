/**
 * POST /api/operations/orders/{orderId}/terminate `{ reason }`: an operator (role Orders.Operator)
 * stops an order's saga for good.
 *
 * Terminating an orchestration stops it where it stands: nothing it did is undone. So the order
 * does not end Failed (which says nothing needed undoing) but Terminated, with its step log kept,
 * and whatever the saga may have left charged, reserved, mailed, recorded or shipped goes to the
 * dead-letter queue as compensations to run, where the operator's retry undoes it (and the order
 * becomes Compensated). A repeat, or a call after a terminate through the management API, does
 * the bookkeeping still missing and nothing twice.
 *
 * A saga whose custom status is final has decided how the order ends, and is refused (409
 * "already ended"): stopping it would dead-letter the undos of a finished order. One that reached
 * its ending while the terminate was on its way (or that a terminate through the management API
 * stopped there) was stopped in the middle of that ending: the route finishes what it still owed
 * (finish-ending.ts: the final write, a Completed order's stock commit, a CompensationFailed
 * order's dead letter, the outcome fact) and answers the same 409, with what it finished. The
 * order keeps the ending the saga decided.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { config } from '../../../libs/config';
import { authorize, personRouteAuthLevel, Roles } from '../../../libs/client-principal';
import { correlatedLogger } from '../../../libs/correlation';
import { answering, json, originOf, readJsonBody } from '../../../libs/http';
import { sendDeadLetterForRoute, type DeadLetter, type FailedCompensation } from '../dead-letters';
import { finishEnding, type FinishedEnding } from '../finish-ending';
import {
  isFinal,
  type CompensationEntry,
  type CompensationName,
  type OrderStatus,
  type OrderView,
  type PlaceOrderInput,
} from '../order-view';
import { undosOf } from '../place-order.orchestrator';
import { readOrder, updateOrder, type OrderDocument } from '../repository';
import { findInstance, isRunning } from './instance';
import { MAX_BODY_BYTES, ORDER_ID, TerminateRequest } from './request-schemas';

const alreadyEnded = (orderId: string, status: OrderStatus, finished?: FinishedEnding) =>
  json(409, { orderId, status, message: 'the order’s saga has already ended', ...(finished ? { finished } : {}) });

/** How long the route waits for a terminate to take effect before asking to be called again. */
const TERMINATE_WAIT_MS = 10_000;

export async function terminateOrderHttp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const orderId = request.params.orderId ?? '';
  const caller = authorize(request, Roles.operator);
  if (!caller.ok) return caller.response;
  const body = await readJsonBody(request, TerminateRequest, MAX_BODY_BYTES);
  if (!body.ok) return body.response;
  const order = ORDER_ID.test(orderId) ? await readOrder(orderId) : undefined;
  if (!order) return json(404, { orderId, message: 'no such order' });
  if (order.status === 'Terminated') return answerRepeat(order);

  const client = df.getClient(context);
  let instance = await findInstance(client, orderId);
  if (!instance || !(isRunning(instance.runtimeStatus) || instance.runtimeStatus === 'Terminated')) {
    return json(409, { orderId, status: order.status, message: 'the order’s saga is not running' });
  }
  // A saga whose view is final has made every decision: it is only finishing its ending (which
  // may wait out a queue outage). Stopping it then would dead-letter undos of a finished order.
  const decided = (instance.customStatus as OrderView | null)?.status;
  if (decided && isFinal(decided) && instance.runtimeStatus !== 'Terminated') return alreadyEnded(orderId, decided);
  const reason = `terminated by ${caller.principal.name}: ${body.value.reason}`;
  // The order's own correlation id, so that following it finds the terminate too.
  const logger = () => correlatedLogger(context, { correlationId: order.correlationId, orderId });
  if (instance.runtimeStatus !== 'Terminated') {
    await client.terminate(orderId, reason);
    instance = await untilTerminated(client, orderId);
    if (instance?.runtimeStatus !== 'Terminated') {
      return json(
        202,
        { orderId, message: 'terminate requested; call again to finish once the saga has stopped' },
        { location: `${originOf(request)}/api/orders/${orderId}` },
      );
    }
  }

  // Stopped: its last custom status is all it did. Each step that began may have acted.
  const view = (instance.customStatus as OrderView | null) ?? order;
  const { order: placed } = (instance.input as PlaceOrderInput | undefined) ?? order.intake!.input;
  // Stopped mid-way, yet the document is final: an earlier call did this terminate's bookkeeping,
  // and the operator's repair has since moved the order on. Answer as that call did; undo nothing twice.
  if (!isFinal(view.status) && isFinal(order.status)) return answerRepeat(order);
  // The saga may have decided its ending between the look above and the terminate landing (or a
  // terminate through the management API stopped it there): what it decided stands, and what its
  // ending still owed (the final write, the stock commit, the dead letter, the outcome fact) is finished here.
  if (isFinal(view.status)) {
    const finished = await finishEnding(client, { ...view, status: view.status }, placed);
    logger().warn('terminate landed in the saga’s ending; finished what it still owed', { ...finished });
    return alreadyEnded(orderId, view.status, finished);
  }
  // The undos the saga's steps declare, so what is owed here is what the saga would have run.
  const undos = undosOf(placed);
  const byName = new Map([...undos.values()].map((undoing) => [undoing.name, undoing]));
  const undone = new Set(
    view.compensations
      .filter((entry) => entry.status === 'succeeded' || entry.status === 'skipped')
      .map((entry) => entry.name),
  );
  const undosOfSteps = (steps: OrderView['steps']) =>
    steps.flatMap((step): CompensationName[] => {
      const undoing = undos.get(step.name);
      return undoing ? [undoing.name] : [];
    });
  // What the saga registered to undo (for a view without that list, every step that began), and
  // every step still running when it stopped: a terminate stops the saga, not an activity it
  // already sent, which may yet act (its result is dropped, so nothing registers its undo).
  const undoable = [
    ...(view.undoable ?? undosOfSteps(view.steps)),
    ...undosOfSteps(view.steps.filter((step) => step.status === 'running')),
  ];
  const held = [...new Set(undoable)].filter((name) => !undone.has(name));
  // Newest first, as the saga would have undone them.
  const pending: FailedCompensation[] = held.reverse().flatMap((name) => {
    const undoing = byName.get(name);
    return undoing
      ? [{ name, activity: undoing.activity, input: undoing.input, error: 'not run: the saga was terminated' }]
      : [];
  });
  // On the saga's clock, which the step log is on: wall time, but for a sped-up offline host.
  // (updatedAt stays on the wall clock every other write of the document uses: the list sorts by it.)
  const at = new Date(config.durableNow()).toISOString();
  const letter: DeadLetter | undefined =
    pending.length > 0
      ? { orderId, correlationId: order.correlationId, reason, failed: pending, deadLetteredAt: at }
      : undefined;
  // The letter is claimed in the same write that makes the order Terminated, so a call that dies
  // before sending it leaves the repeat (which finds the order Terminated) a letter to send.
  // Never over a final status: another call's Terminated, or a repair's ending since.
  await updateOrder(orderId, (stored) =>
    isFinal(stored.status)
      ? undefined
      : {
          ...stored,
          ...view,
          id: orderId,
          status: 'Terminated',
          reason,
          compensations: [
            ...view.compensations.filter((entry) => undone.has(entry.name)),
            ...pending.map((entry): CompensationEntry => ({
              name: entry.name,
              status: 'failed',
              at,
              detail: entry.error,
            })),
          ],
          ...(letter && !stored.deadLetter ? { deadLetter: { state: 'claimed', letter } } : {}),
          revision: stored.revision + 1,
          updatedAt: new Date().toISOString(),
        },
  );
  if (letter) await sendDeadLetterForRoute(letter);
  logger().warn('order terminated by an operator', {
    operator: caller.principal.name,
    deadLettered: pending.map((entry) => entry.name),
  });
  return json(200, { orderId, status: 'Terminated', deadLettered: pending.map((entry) => entry.name) });
}

/**
 * A repeat answers as the first call did: the compensations its dead letter holds (none were owed
 * without one), and the order's status (Terminated, or what a repair has made it since). A letter
 * claimed but never sent (the queue failed the first call) is sent now, once.
 */
async function answerRepeat(order: OrderDocument): Promise<HttpResponseInit> {
  const record = order.deadLetter;
  if (record?.state === 'claimed' && !record.messageId) await sendDeadLetterForRoute(record.letter);
  const deadLettered = record?.letter.failed.map((entry) => entry.name) ?? [];
  return json(200, { orderId: order.orderId, status: order.status, deadLettered });
}

async function untilTerminated(
  client: df.DurableClient,
  orderId: string,
): Promise<df.DurableOrchestrationStatus | undefined> {
  const until = Date.now() + TERMINATE_WAIT_MS;
  for (;;) {
    const instance = await findInstance(client, orderId);
    if (!instance || instance.runtimeStatus === 'Terminated' || Date.now() > until) return instance;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

app.http('terminateOrderHttp', {
  route: 'operations/orders/{orderId}/terminate',
  methods: ['POST'],
  authLevel: personRouteAuthLevel(),
  extraInputs: [df.input.durableClient()],
  handler: answering(terminateOrderHttp),
});
