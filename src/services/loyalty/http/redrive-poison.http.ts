/**
 *   POST /api/operations/loyalty/poison/redrive   (role Orders.Operator)
 *
 * Puts the facts the loyalty reaction gave up on back on order-events, once what made it fail is
 * fixed: the host moves a message to the poison queue after `maxDequeueCount` tries a few seconds
 * apart (host.json), so a Cosmos outage of a minute poisons valid facts. The reaction is
 * idempotent, so a fact redriven twice (a crash between the send and the delete) awards nothing
 * twice. A message that is not an order's outcome would only fail again: it stays where it is.
 *
 * Up to ten batches of 32 messages per call, begun within its first 30 s; `remaining` says whether
 * to call again. A message kept stays leased until the call ends, so the next batch reaches past
 * it, then is made visible again for the operator to read.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { authorize, personRouteAuthLevel, Roles } from '../../../libs/client-principal';
import { ORDER_EVENTS_QUEUE, OrderOutcome } from '../../../libs/events';
import { answering, json } from '../../../libs/http';
import { decodeMessage, queueClient } from '../../../libs/storage-queues';
import { poisonQueueOf } from '../contract';

const BATCH = 32;
const BATCHES_PER_CALL = 10;
/** How long a received message stays hidden: kept ones must be released within it. */
const LEASE_SECONDS = 60;
/** Batches start only within the first half of the lease, so the call ends while every kept message is still leased. */
const BATCHES_WITHIN_MS = (LEASE_SECONDS * 1000) / 2;

export async function redriveLoyaltyPoisonHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = authorize(request, Roles.operator);
  if (!caller.ok) return caller.response;
  const poison = queueClient(poisonQueueOf(ORDER_EVENTS_QUEUE));
  if (!(await poison.exists())) return json(200, { queue: poison.name, redriven: 0, kept: 0, remaining: 0 });
  const events = queueClient(ORDER_EVENTS_QUEUE);
  let redriven = 0;
  const kept: { messageId: string; popReceipt: string }[] = [];
  const started = performance.now();
  for (let batch = 0; batch < BATCHES_PER_CALL && performance.now() - started < BATCHES_WITHIN_MS; batch += 1) {
    const { receivedMessageItems } = await poison.receiveMessages({
      numberOfMessages: BATCH,
      visibilityTimeout: LEASE_SECONDS,
    });
    if (receivedMessageItems.length === 0) break;
    for (const item of receivedMessageItems) {
      if (!isOrderOutcome(item.messageText)) {
        kept.push(item);
        continue;
      }
      // Sent before it is deleted: a failure in between leaves it on both queues, never on neither.
      await events.sendMessage(item.messageText);
      await poison.deleteMessage(item.messageId, item.popReceipt);
      redriven += 1;
    }
  }
  // Best effort: a message whose lease ran out meanwhile is visible again already (its receipt is stale).
  for (const item of kept)
    await poison.updateMessage(item.messageId, item.popReceipt, undefined, 0).catch(() => undefined);
  const { approximateMessagesCount } = await poison.getProperties();
  // What another call could still redrive: the kept messages are there too, and would only be kept again.
  const remaining = Math.max(0, (approximateMessagesCount ?? 0) - kept.length);
  return json(200, { queue: poison.name, redriven, kept: kept.length, remaining });
}

function isOrderOutcome(text: string): boolean {
  try {
    return OrderOutcome.safeParse(decodeMessage(text)).success;
  } catch {
    return false;
  }
}

app.http('redriveLoyaltyPoison', {
  route: 'operations/loyalty/poison/redrive',
  methods: ['POST'],
  authLevel: personRouteAuthLevel(),
  handler: answering<[HttpRequest, InvocationContext]>(redriveLoyaltyPoisonHttp),
});
