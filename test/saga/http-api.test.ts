/** Every response code of the HTTP API, through the registered functions and the durable client. */
import { SEED_CATALOG } from '../../local/dependencies/seed-data';
import { orderRequest, uniqueOrderId } from '../support/orders';
import { startSagaApp, type SagaApp } from '../support/saga-app';

let app: SagaApp;
beforeAll(async () => {
  app = await startSagaApp();
});
afterAll(async () => {
  await app?.stop();
});

describe('POST /api/orders', () => {
  it('answers 202 with Location and the status URL, and echoes the correlation id', async () => {
    const orderId = uniqueOrderId('accept');
    const response = await app.http('POST', '/api/orders', { body: orderRequest({ orderId }), headers: { 'x-correlation-id': 'corr-123' } });
    expect(response.status).toBe(202);
    expect(response.json).toEqual({ orderId, correlationId: 'corr-123', statusUrl: expect.stringMatching(new RegExp(`/api/orders/${orderId}$`)) });
    expect(response.headers.location).toBe((response.json as { statusUrl: string }).statusUrl);
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
  });

  it('generates an order id and a correlation id when none are given', async () => {
    const response = await app.http('POST', '/api/orders', { body: orderRequest() });
    expect(response.status).toBe(202);
    const { orderId, correlationId } = response.json as { orderId: string; correlationId: string };
    expect(orderId).toMatch(/^[0-9a-f-]{36}$/);
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
    await app.settleOrder(orderId);
  });

  it('starts one saga per order id: a second POST answers 409 with the status URL', async () => {
    const orderId = uniqueOrderId('twice');
    const first = await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
    const second = await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
    expect([first.status, second.status]).toEqual([202, 409]);
    expect(second.json).toMatchObject({ orderId, statusUrl: (first.json as { statusUrl: string }).statusUrl });
    await app.settleOrder(orderId);
  });

  it('starts exactly one saga when the same order is posted concurrently', async () => {
    const orderId = uniqueOrderId('race');
    const responses = await Promise.all(Array.from({ length: 6 }, () => app.http('POST', '/api/orders', { body: orderRequest({ orderId }) })));
    expect(responses.map((response) => response.status).sort()).toEqual([202, 409, 409, 409, 409, 409]);
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
  });

  it('answers 400 naming every bad field', async () => {
    const response = await app.http('POST', '/api/orders', { body: { ...orderRequest(), currency: 'JPY', items: [] } });
    expect(response.status).toBe(400);
    expect((response.json as { errors: { path: string }[] }).errors.map((error) => error.path).sort()).toEqual(['currency', 'items']);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await app.http('POST', '/api/orders', { rawBody: '{not json', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(400);
  });

  it('answers 415 for another content type', async () => {
    const response = await app.http('POST', '/api/orders', { rawBody: 'sku=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(response.status).toBe(415);
  });

  it('answers 413 for a body over 64 KB', async () => {
    const response = await app.http('POST', '/api/orders', { body: { ...orderRequest(), customerId: 'x'.repeat(70_000) } });
    expect(response.status).toBe(413);
  });
});

describe('GET /api/orders/{orderId}', () => {
  it('answers 200 with the order view', async () => {
    const orderId = uniqueOrderId('view');
    await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
    await app.settleOrder(orderId);
    const response = await app.http('GET', `/api/orders/${orderId}`);
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ orderId, status: 'Completed', total: 159, currency: 'EUR', compensations: [], warnings: [] });
    expect((response.json as { steps: { at: string }[] }).steps.every((step) => !Number.isNaN(Date.parse(step.at)))).toBe(true);
  });

  it('answers 404 for an unknown or malformed id', async () => {
    expect((await app.http('GET', '/api/orders/never-placed')).status).toBe(404);
    expect((await app.http('GET', `/api/orders/${encodeURIComponent('bad id!')}`)).status).toBe(404);
  });
});

describe('POST /api/orders/{orderId}/approval', () => {
  it('answers 202 for an order awaiting approval, and 409 once it no longer is', async () => {
    const orderId = uniqueOrderId('approve');
    await app.http('POST', '/api/orders', { body: orderRequest({ orderId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }) });
    await app.waitForOrderStatus(orderId, 'AwaitingApproval');
    const approved = await app.http('POST', `/api/orders/${orderId}/approval`, { body: { approved: true, approver: 'grace' } });
    expect(approved.status).toBe(202);
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
    const late = await app.http('POST', `/api/orders/${orderId}/approval`, { body: { approved: false, approver: 'grace' } });
    expect(late.status).toBe(409);
  });

  it('answers 409 for an order that never needed approval', async () => {
    const orderId = uniqueOrderId('small');
    await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
    await app.settleOrder(orderId);
    expect((await app.http('POST', `/api/orders/${orderId}/approval`, { body: { approved: true, approver: 'grace' } })).status).toBe(409);
  });

  it('answers 404 for an unknown order and 400 for a bad decision', async () => {
    expect((await app.http('POST', '/api/orders/nobody/approval', { body: { approved: true, approver: 'grace' } })).status).toBe(404);
    const bad = await app.http('POST', '/api/orders/nobody/approval', { body: { approved: 'yes' } });
    expect(bad.status).toBe(400);
    expect((bad.json as { errors: { path: string }[] }).errors.map((error) => error.path)).toEqual(['approved', 'approver']);
  });
});

describe('GET /api/catalog', () => {
  it('lists every seeded item with its price and the stock available now', async () => {
    const response = await app.http('GET', '/api/catalog');
    expect(response.status).toBe(200);
    const catalog = response.json as { sku: string; price: number; currency: string; stock: number }[];
    expect(catalog.map((item) => item.sku).sort()).toEqual(SEED_CATALOG.map((item) => item.sku).sort());
    const laptop = catalog.find((item) => item.sku === 'LAPTOP-PRO-16')!;
    expect(laptop).toMatchObject({ price: 1899, currency: 'EUR' });
    expect(laptop.stock).toBeGreaterThanOrEqual(3);
  });

  it('prices in the asked currency, and answers 400 for an unknown one', async () => {
    const usd = await app.http('GET', '/api/catalog?currency=USD');
    expect((usd.json as { sku: string; price: number }[]).find((item) => item.sku === 'LAPTOP-PRO-16')?.price).toBe(1999);
    expect((await app.http('GET', '/api/catalog?currency=JPY')).status).toBe(400);
  });

  it('shows stock going down as orders complete', async () => {
    const stockOf = async () => ((await app.http('GET', '/api/catalog')).json as { sku: string; stock: number }[]).find((item) => item.sku === 'USB-C-DOCK')!.stock;
    const before = await stockOf();
    const orderId = uniqueOrderId('stock');
    await app.http('POST', '/api/orders', { body: orderRequest({ orderId, items: [{ sku: 'USB-C-DOCK', quantity: 3 }] }) });
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
    expect(await stockOf()).toBe(before - 3);
  });
});

describe('approval timeout on virtual time', () => {
  it('rejects a large order that nobody decided within 24 hours, charging nothing', async () => {
    const orderId = uniqueOrderId('timeout');
    await app.http('POST', '/api/orders', { body: orderRequest({ orderId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }) });
    await app.waitForOrderStatus(orderId, 'AwaitingApproval');
    const waitingSince = app.clock.now();
    const view = await app.settleOrder(orderId, { skipTime: true });
    // The whole day passed on the virtual clock, none of it on the wall clock.
    expect(app.clock.now() - waitingSince).toBeGreaterThanOrEqual(24 * 3600_000);
    expect(view.status).toBe('Rejected');
    expect(view.reason).toMatch(/no approval decision/);
    expect(view.steps.map((step) => step.name)).toEqual(['validate', 'approval']);
  });
});
