/**
 *   GET /api/loyalty/{customerId}            (function key) a customer's points and the orders that earned them
 *   GET /api/operations/loyalty/poison       (role Orders.Operator) messages the reaction gave up on
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { CustomerId, ORDER_EVENTS_QUEUE } from '../../../libs/events';
import { authorize, personRouteAuthLevel, Roles } from '../../../libs/client-principal';
import { answering, json } from '../../../libs/http';
import { decodeMessage, queueClient } from '../../../libs/storage-queues';
import { poisonQueueOf } from '../contract';
import { customerLedger } from '../repository';

const PEEK_LIMIT = 32;

export async function getLoyaltyHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const customerId = request.params.customerId ?? '';
  // Exactly what an order may carry: untrimmed text is no customer's, so it is refused, not trimmed.
  if (customerId !== customerId.trim() || !CustomerId.safeParse(customerId).success)
    return json(400, { errors: [{ path: 'customerId', message: 'not a customer id (1 to 64 characters)' }] });
  return json(200, { customerId, ...(await customerLedger(customerId)) });
}

/** Peeks (never takes) the poison queue: what is there, how often it was tried, and its text. */
export async function listLoyaltyPoisonHttp(request: HttpRequest): Promise<HttpResponseInit> {
  // An operator's route, like the dead letters: what failed may carry a customer's data.
  const caller = authorize(request, Roles.operator);
  if (!caller.ok) return caller.response;
  const poison = queueClient(poisonQueueOf(ORDER_EVENTS_QUEUE));
  if (!(await poison.exists())) return json(200, { queue: poison.name, approximateCount: 0, messages: [] });
  const [{ approximateMessagesCount }, { peekedMessageItems }] = await Promise.all([
    poison.getProperties(),
    poison.peekMessages({ numberOfMessages: PEEK_LIMIT }),
  ]);
  return json(200, {
    queue: poison.name,
    approximateCount: approximateMessagesCount ?? peekedMessageItems.length,
    messages: peekedMessageItems.map((item) => ({
      messageId: item.messageId,
      insertedOn: item.insertedOn?.toISOString(),
      body: readable(item.messageText),
    })),
  });
}

function readable(text: string): unknown {
  try {
    return decodeMessage(text);
  } catch {
    return text;
  }
}

app.http('getLoyalty', {
  route: 'loyalty/{customerId}',
  methods: ['GET'],
  authLevel: 'function',
  handler: answering<[HttpRequest, InvocationContext]>(getLoyaltyHttp),
});
app.http('listLoyaltyPoison', {
  route: 'operations/loyalty/poison',
  methods: ['GET'],
  authLevel: personRouteAuthLevel(),
  handler: answering<[HttpRequest, InvocationContext]>(listLoyaltyPoisonHttp),
});
