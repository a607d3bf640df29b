/** GET /api/orders[?limit=20]: the most recently updated orders, newest first (the timeline page's list). */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { answering, json } from '../../../libs/http';
import { listRecentOrders } from '../repository';

export const DEFAULT_ORDER_LIST_LIMIT = 20;
export const MAX_ORDER_LIST_LIMIT = 100;

export async function listOrdersHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const raw = request.query.get('limit')?.trim();
  const limit = raw ? (/^\d{1,3}$/.test(raw) ? Number(raw) : NaN) : DEFAULT_ORDER_LIST_LIMIT;
  if (!(limit >= 1 && limit <= MAX_ORDER_LIST_LIMIT)) {
    return json(400, { errors: [{ path: '(query).limit', message: `must be a whole number from 1 to ${MAX_ORDER_LIST_LIMIT}` }] });
  }
  return json(200, { orders: await listRecentOrders(limit) });
}

app.http('listOrdersHttp', { route: 'orders', methods: ['GET'], authLevel: 'function', handler: answering<[HttpRequest, InvocationContext]>(listOrdersHttp) });
