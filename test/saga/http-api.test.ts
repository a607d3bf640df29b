/** Every response code of the HTTP API, through the registered functions and the durable client. */
import { SEED_CATALOG } from '../../local/dependencies/seed-data';
import { instanceCount } from '../resilience/helpers';
import { orderRequest, uniqueOrderId } from '../support/orders';
import { asApprover, asCustomer, asOperator } from '../support/principals';
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
    const response = await app.http('POST', '/api/orders', {
      body: orderRequest({ orderId }),
      headers: { 'x-correlation-id': 'corr-123' },
    });
    expect(response.status).toBe(202);
    expect(response.json).toEqual({
      orderId,
      correlationId: 'corr-123',
      statusUrl: expect.stringMatching(new RegExp(`/api/orders/${orderId}$`)),
    });
    expect(response.headers.location).toBe((response.json as { statusUrl: string }).statusUrl);
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
  });

  it('generates a correlation id when none is given', async () => {
    const orderId = uniqueOrderId('no-correlation');
    const response = await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
    expect(response.status).toBe(202);
    const { correlationId } = response.json as { correlationId: string };
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
    await app.settleOrder(orderId);
  });

  it('refuses an order without its id (400 naming it), so that a retried request can never place a second order', async () => {
    const before = instanceCount(app);
    const { orderId: _omitted, ...withoutId } = orderRequest();
    const first = await app.http('POST', '/api/orders', { body: withoutId });
    const retry = await app.http('POST', '/api/orders', { body: withoutId });
    for (const response of [first, retry]) {
      expect(response.status).toBe(400);
      expect((response.json as { errors: { path: string }[] }).errors.map((error) => error.path)).toEqual(['orderId']);
    }
    expect(instanceCount(app)).toBe(before);
  });

  it('answers a repeat of the same order with the same answer, and another body under that id with 409', async () => {
    const orderId = uniqueOrderId('twice');
    const first = await app.http('POST', '/api/orders', {
      body: orderRequest({ orderId }),
      headers: { 'x-correlation-id': 'first-try' },
    });
    const repeat = await app.http('POST', '/api/orders', {
      body: orderRequest({ orderId }),
      headers: { 'x-correlation-id': 'second-try' },
    });
    expect([first.status, repeat.status]).toEqual([202, 202]);
    // The first request's correlation id is the order's: the saga runs with it, so the repeat is told it.
    expect(repeat.json).toEqual(first.json);
    expect(repeat.headers.location).toBe(first.headers.location);
    const other = await app.http('POST', '/api/orders', {
      body: orderRequest({ orderId, customerId: 'someone-else' }),
    });
    expect(other.status).toBe(409);
    expect(other.json).toMatchObject({ orderId, statusUrl: (first.json as { statusUrl: string }).statusUrl });
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
  });

  it('answers 400 naming every bad field', async () => {
    const response = await app.http('POST', '/api/orders', { body: { ...orderRequest(), currency: 'JPY', items: [] } });
    expect(response.status).toBe(400);
    expect((response.json as { errors: { path: string }[] }).errors.map((error) => error.path).sort()).toEqual([
      'currency',
      'items',
    ]);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await app.http('POST', '/api/orders', {
      rawBody: '{not json',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
  });

  it('answers 415 for another content type', async () => {
    const response = await app.http('POST', '/api/orders', {
      rawBody: 'sku=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(415);
  });

  it('answers 413 for a body over 64 KB', async () => {
    const response = await app.http('POST', '/api/orders', {
      body: { ...orderRequest(), customerId: 'x'.repeat(70_000) },
    });
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
    expect(response.json).toMatchObject({
      orderId,
      status: 'Completed',
      total: 159,
      currency: 'EUR',
      compensations: [],
      warnings: [],
    });
    expect(
      (response.json as { steps: { at: string }[] }).steps.every((step) => !Number.isNaN(Date.parse(step.at))),
    ).toBe(true);
  });

  it('answers 404 for an unknown or malformed id', async () => {
    expect((await app.http('GET', '/api/orders/never-placed')).status).toBe(404);
    expect((await app.http('GET', `/api/orders/${encodeURIComponent('bad id!')}`)).status).toBe(404);
  });
});

describe('POST /api/orders/{orderId}/approval', () => {
  it('answers 202 for an order awaiting approval, and 409 once it no longer is', async () => {
    const orderId = uniqueOrderId('approve');
    await app.http('POST', '/api/orders', {
      body: orderRequest({ orderId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
    });
    await app.waitForOrderStatus(orderId, 'AwaitingApproval');
    const approved = await app.http('POST', `/api/orders/${orderId}/approval`, {
      body: { approved: true },
      headers: asApprover('grace'),
    });
    expect(approved.status).toBe(202);
    expect(approved.json).toMatchObject({ orderId, approved: true, approver: 'grace' });
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
    const late = await app.http('POST', `/api/orders/${orderId}/approval`, {
      body: { approved: false },
      headers: asApprover('grace'),
    });
    expect(late.status).toBe(409);
    expect(late.json).toMatchObject({ decision: { approved: true, approver: 'grace' } });
  });

  it('answers 409 for an order that never needed approval', async () => {
    const orderId = uniqueOrderId('small');
    await app.http('POST', '/api/orders', { body: orderRequest({ orderId }) });
    await app.settleOrder(orderId);
    expect(
      (await app.http('POST', `/api/orders/${orderId}/approval`, { body: { approved: true }, headers: asApprover() }))
        .status,
    ).toBe(409);
  });

  it('answers 404 for an unknown order and 400 for a bad decision, or one that names its approver', async () => {
    expect(
      (await app.http('POST', '/api/orders/nobody/approval', { body: { approved: true }, headers: asApprover() }))
        .status,
    ).toBe(404);
    const bad = await app.http('POST', '/api/orders/nobody/approval', {
      body: { approved: 'yes', approver: 'mallory' },
      headers: asApprover(),
    });
    expect(bad.status).toBe(400);
    expect((bad.json as { errors: { path: string }[] }).errors.map((error) => error.path)).toEqual([
      'approved',
      'approver',
    ]);
  });

  it('answers 401 without a client principal and 403 without the approver role', async () => {
    const orderId = uniqueOrderId('who');
    await app.http('POST', '/api/orders', {
      body: orderRequest({ orderId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
    });
    await app.waitForOrderStatus(orderId, 'AwaitingApproval');
    expect((await app.http('POST', `/api/orders/${orderId}/approval`, { body: { approved: true } })).status).toBe(401);
    expect(
      (
        await app.http('POST', `/api/orders/${orderId}/approval`, {
          body: { approved: true },
          headers: { 'x-ms-client-principal': 'not base64 json' },
        })
      ).status,
    ).toBe(401);
    const customer = await app.http('POST', `/api/orders/${orderId}/approval`, {
      body: { approved: true },
      headers: asCustomer(),
    });
    expect(customer.status).toBe(403);
    expect(
      (await app.http('POST', `/api/orders/${orderId}/approval`, { body: { approved: true }, headers: asOperator() }))
        .status,
    ).toBe(403);
    expect((await app.http('GET', `/api/orders/${orderId}`)).json).toMatchObject({ status: 'AwaitingApproval' });
    expect(
      (await app.http('POST', `/api/orders/${orderId}/approval`, { body: { approved: false }, headers: asApprover() }))
        .status,
    ).toBe(202);
    expect((await app.settleOrder(orderId)).status).toBe('Rejected');
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
    expect((usd.json as { sku: string; price: number }[]).find((item) => item.sku === 'LAPTOP-PRO-16')?.price).toBe(
      1999,
    );
    expect((await app.http('GET', '/api/catalog?currency=JPY')).status).toBe(400);
  });

  it('shows stock going down as orders complete', async () => {
    const stockOf = async () =>
      ((await app.http('GET', '/api/catalog')).json as { sku: string; stock: number }[]).find(
        (item) => item.sku === 'USB-C-DOCK',
      )!.stock;
    const before = await stockOf();
    const orderId = uniqueOrderId('stock');
    await app.http('POST', '/api/orders', {
      body: orderRequest({ orderId, items: [{ sku: 'USB-C-DOCK', quantity: 3 }] }),
    });
    expect((await app.settleOrder(orderId)).status).toBe('Completed');
    expect(await stockOf()).toBe(before - 3);
  });
});

describe('approval timeout on virtual time', () => {
  it('rejects a large order that nobody decided within 24 hours, charging nothing', async () => {
    const orderId = uniqueOrderId('timeout');
    await app.http('POST', '/api/orders', {
      body: orderRequest({ orderId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
    });
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
