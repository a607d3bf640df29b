/**
 * GET /api/orders[?limit=20&before=<cursor>&q=text]: the most recently updated orders, newest
 * first, a page at a time (the timeline page's list). `q` matches part of an order id, or a whole
 * status. Answers `{ orders, next }`: `next` is the `before` of the following page, or null.
 * The cursor is opaque to clients: base64url of the last order's `[updatedAt, orderId]`, since
 * orders updated at the same instant are told apart by id.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as z from 'zod';
import { answering, json } from '../../../libs/http';
import { listRecentOrders, type OrderListCursor } from '../repository';
import { ORDER_ID } from './request-schemas';

export const DEFAULT_ORDER_LIST_LIMIT = 20;
export const MAX_ORDER_LIST_LIMIT = 100;
const SEARCH = /^[A-Za-z0-9._:-]{1,64}$/;
const Cursor = z.tuple([z.iso.datetime(), z.string().regex(ORDER_ID)]);

const encodeCursor = ({ updatedAt, orderId }: OrderListCursor) =>
  Buffer.from(JSON.stringify([updatedAt, orderId])).toString('base64url');

function decodeCursor(text: string): OrderListCursor | undefined {
  try {
    const parsed = Cursor.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? { updatedAt: parsed.data[0], orderId: parsed.data[1] } : undefined;
  } catch {
    return undefined;
  }
}

export async function listOrdersHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const raw = request.query.get('limit')?.trim();
  const limit = raw ? (/^\d{1,3}$/.test(raw) ? Number(raw) : NaN) : DEFAULT_ORDER_LIST_LIMIT;
  const cursor = request.query.get('before')?.trim() || undefined;
  const before = cursor ? decodeCursor(cursor) : undefined;
  const search = request.query.get('q')?.trim() || undefined;
  const errors = [];
  if (!(limit >= 1 && limit <= MAX_ORDER_LIST_LIMIT))
    errors.push({ path: '(query).limit', message: `must be a whole number from 1 to ${MAX_ORDER_LIST_LIMIT}` });
  if (cursor && !before) errors.push({ path: '(query).before', message: 'must be the next value of a previous page' });
  if (search && !SEARCH.test(search))
    errors.push({ path: '(query).q', message: 'letters, digits and . _ : - only, at most 64' });
  if (errors.length > 0) return json(400, { errors });
  // One more than asked tells whether there is a next page.
  const found = await listRecentOrders(limit + 1, { before, search });
  const orders = found.slice(0, limit);
  return json(200, { orders, next: found.length > limit ? encodeCursor(orders.at(-1)!) : null });
}

app.http('listOrdersHttp', {
  route: 'orders',
  methods: ['GET'],
  authLevel: 'function',
  handler: answering<[HttpRequest, InvocationContext]>(listOrdersHttp),
});
