/**
 * GET /api/orders (the order list) and GET /api/timeline (the page), in process: the registered
 * functions on the durable engine with virtual time, as in test/saga.
 */
import { createHash } from 'node:crypto';
import { TIMELINE_SCRIPT, TIMELINE_STYLE } from '../../src/services/orders/http/timeline-page.html';
import type { OrderView } from '../../src/services/orders/order-view';
import { saveOrderProgress } from '../../src/services/orders/repository';
import { orderRequest, uniqueOrderId } from '../support/orders';
import { startSagaApp, type SagaApp } from '../support/saga-app';

let app: SagaApp;
const placed: string[] = [];

beforeAll(async () => {
  app = await startSagaApp();
  // One after another, so each is updated (finished) later than the one before.
  for (const label of ['first', 'second', 'third']) {
    const orderId = uniqueOrderId(`list-${label}`);
    expect((await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) })).status).toBe(202);
    await app.settleOrder(orderId);
    placed.push(orderId);
  }
});

afterAll(async () => {
  await app?.stop();
});

interface ListedOrder {
  orderId: string;
  status: string;
  total: number;
  currency: string;
  updatedAt: string;
}

describe('GET /api/orders', () => {
  it('answers 200 with the most recently updated orders first, without their step logs', async () => {
    const response = await app.http('GET', '/api/orders');
    expect(response.status).toBe(200);
    const { orders } = response.json as { orders: ListedOrder[] };
    expect(orders.slice(0, 3).map((order) => order.orderId)).toEqual([...placed].reverse());
    expect(orders[0]).toEqual({
      orderId: placed[2],
      status: 'Completed',
      total: 159,
      currency: 'EUR',
      updatedAt: expect.any(String),
    });
    const times = orders.map((order) => Date.parse(order.updatedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('returns at most `limit` orders', async () => {
    const response = await app.http('GET', '/api/orders?limit=2');
    expect(response.status).toBe(200);
    expect((response.json as { orders: ListedOrder[] }).orders.map((order) => order.orderId)).toEqual([
      placed[2],
      placed[1],
    ]);
  });

  it('defaults to 20 and accepts up to 100', async () => {
    for (let index = 0; index < 18; index += 1) {
      const orderId = uniqueOrderId('list-many');
      await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
    }
    await app.settle({ fastForward: true });
    expect(((await app.http('GET', '/api/orders')).json as { orders: unknown[] }).orders).toHaveLength(20);
    expect(
      ((await app.http('GET', '/api/orders?limit=100')).json as { orders: unknown[] }).orders.length,
    ).toBeGreaterThanOrEqual(21);
  });

  it.each(['0', '101', '-1', '1.5', 'ten', '1e2', '0x10'])(
    'answers 400 naming the parameter for limit=%s',
    async (limit) => {
      const response = await app.http('GET', `/api/orders?limit=${encodeURIComponent(limit)}`);
      expect(response.status).toBe(400);
      expect(response.json).toEqual({
        errors: [{ path: '(query).limit', message: 'must be a whole number from 1 to 100' }],
      });
    },
  );

  it('pages with a cursor, and says where the next page starts', async () => {
    type Page = { orders: ListedOrder[]; next: string | null };
    const first = (await app.http('GET', '/api/orders?limit=2')).json as Page;
    // Opaque to the client: base64url, safe in a query string as it is.
    expect(first.next).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = (await app.http('GET', `/api/orders?limit=2&before=${encodeURIComponent(first.next!)}`))
      .json as Page;
    const all = ((await app.http('GET', '/api/orders?limit=4')).json as Page).orders.map((order) => order.orderId);
    expect([...first.orders, ...second.orders].map((order) => order.orderId)).toEqual(all);
    expect(((await app.http('GET', '/api/orders?limit=100')).json as Page).next).toBeNull();
  });

  it('pages past orders updated at the same instant, with limit 1 and 2', async () => {
    type Page = { orders: ListedOrder[]; next: string | null };
    const stem = uniqueOrderId('list-tied');
    const at = new Date('2026-03-02T00:00:00.000Z');
    for (const index of [0, 1, 2]) {
      const orderId = `${stem}-${index}`;
      const view: OrderView = {
        orderId,
        correlationId: 'c',
        status: 'Paying',
        total: 1,
        currency: 'EUR',
        steps: [],
        compensations: [],
        warnings: [],
      };
      await saveOrderProgress(1, view, at);
    }
    for (const limit of [1, 2]) {
      const listed: string[] = [];
      let before: string | null = '';
      while (before !== null) {
        const query = `limit=${limit}&q=${stem}${before ? `&before=${encodeURIComponent(before)}` : ''}`;
        const page = (await app.http('GET', `/api/orders?${query}`)).json as Page;
        listed.push(...page.orders.map((order) => order.orderId));
        before = page.next;
      }
      expect(listed).toEqual([`${stem}-2`, `${stem}-1`, `${stem}-0`]);
    }
  });

  it('searches part of the order id, ignoring case, or a whole status', async () => {
    const byId = (await app.http('GET', `/api/orders?q=${encodeURIComponent(placed[1].toUpperCase())}`)).json as {
      orders: ListedOrder[];
    };
    expect(byId.orders.map((order) => order.orderId)).toEqual([placed[1]]);
    const byStatus = (await app.http('GET', '/api/orders?q=completed&limit=100')).json as { orders: ListedOrder[] };
    expect(byStatus.orders.length).toBeGreaterThanOrEqual(3);
    expect(byStatus.orders.every((order) => order.status === 'Completed')).toBe(true);
    expect(((await app.http('GET', '/api/orders?q=no-such-order')).json as { orders: ListedOrder[] }).orders).toEqual(
      [],
    );
  });

  it.each([
    ['before=yesterday', '(query).before'],
    ['before=2026-01-01', '(query).before'],
    // The cursor a page answered before cursors named the order too: a time alone.
    [`before=${Buffer.from('"2026-01-01T00:00:00.000Z"').toString('base64url')}`, '(query).before'],
    [`before=${Buffer.from('["2026-01-01T00:00:00.000Z","../x"]').toString('base64url')}`, '(query).before'],
    ['q=%3Cscript%3E', '(query).q'],
  ])('answers 400 for %s', async (query, path) => {
    const response = await app.http('GET', `/api/orders?${query}`);
    expect(response.status).toBe(400);
    expect((response.json as { errors: { path: string }[] }).errors.map((error) => error.path)).toEqual([path]);
  });

  it('answers 405 for a method neither order function takes', async () => {
    expect((await app.http('DELETE', '/api/orders')).status).toBe(405);
  });

  it('is registered at function level; the page anonymously', () => {
    const trigger = (name: string) => app.registry.http.find((fn) => fn.name === name)!.options.trigger;
    expect(trigger('listOrdersHttp')).toMatchObject({ authLevel: 'function', route: 'orders', methods: ['GET'] });
    expect(trigger('timelinePageHttp')).toMatchObject({ authLevel: 'anonymous', route: 'timeline', methods: ['GET'] });
  });
});

describe('GET /api/timeline', () => {
  it('answers 200 with the self-contained page under a policy that allows exactly its own script and style', async () => {
    const response = await app.http('GET', '/api/timeline');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.text).toContain(`<script>${TIMELINE_SCRIPT}</script>`);
    expect(response.text).toContain(`<style>${TIMELINE_STYLE}</style>`);
    expect(response.text).not.toMatch(/<(script|link)[^>]+(src|href)=/);
    const hash = (text: string) => createHash('sha256').update(text).digest('base64');
    const policy = response.headers['content-security-policy'];
    expect(policy).toContain(`script-src 'sha256-${hash(TIMELINE_SCRIPT)}'`);
    expect(policy).toContain(`style-src 'sha256-${hash(TIMELINE_STYLE)}'`);
    expect(policy).toContain("connect-src 'self'");
    expect(response.headers['referrer-policy']).toBe('no-referrer');
  });

  it('answers 405 for other methods', async () => {
    expect((await app.http('POST', '/api/timeline', { body: {} })).status).toBe(405);
  });
});
