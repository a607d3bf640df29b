/** The function invoker: routing under api/, HttpRequest as the worker builds it, response shapes. */
import { compileRoute } from '../../local/engine/routes';
import { startTestApp, type TestApp } from '../../local/engine/testing';
import './fixtures/http';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

describe('HTTP functions', () => {
  it('passes route params, query, headers and body, with a context for the function', async () => {
    const response = await app.http('PUT', '/api/shop/items/42?q=blue', {
      rawBody: 'new text',
      headers: { 'X-Test': 'yes' },
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    expect(response.json).toEqual({
      method: 'PUT',
      itemId: '42',
      q: 'blue',
      header: 'yes',
      body: 'new text',
      functionName: 'http_item',
      trigger: 'httpTrigger',
    });
  });

  it('prefers the route with more literal segments', async () => {
    expect((await app.http('GET', '/api/shop/items/special')).text).toBe('the special one');
    expect((await app.http('GET', '/api/SHOP/Items/7')).json).toMatchObject({ itemId: '7' });
  });

  it('decodes escaped route params', async () => {
    expect((await app.http('GET', '/api/shop/items/a%20b')).json).toMatchObject({ itemId: 'a b' });
  });

  it('answers 404 for no route and 405 (with Allow) for a wrong method', async () => {
    expect((await app.http('GET', '/api/shop/unknown')).status).toBe(404);
    expect((await app.http('GET', '/shop/items/1')).status).toBe(404);
    const wrong = await app.http('DELETE', '/api/shop/items/1');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET, PUT');
  });

  it('accepts HttpResponse instances, empty results and thrown errors', async () => {
    const made = await app.http('GET', '/api/shop/class');
    expect([made.status, made.text, made.headers['x-made']]).toEqual([201, 'made', 'yes']);
    expect((await app.http('POST', '/api/shop/nothing')).status).toBe(204);
    expect((await app.http('GET', '/api/shop/throws')).status).toBe(500);
  });

  it('routes a function without a route by its name', async () => {
    expect((await app.http('GET', '/api/http_default_route')).text).toBe('named after the function');
  });

  it('serves the same functions over the loopback server', async () => {
    const response = await fetch(`${app.baseUrl}/api/shop/items/9?q=red`, { headers: { 'x-test': 'net' } });
    expect(await response.json()).toMatchObject({ itemId: '9', q: 'red', header: 'net' });
  });
});

describe('route templates', () => {
  it('match params, optional and catch-all segments, and constraints', () => {
    expect(compileRoute('orders/{orderId}/approval').match('orders/abc/approval')).toEqual({ orderId: 'abc' });
    expect(compileRoute('orders/{orderId}/approval').match('orders/abc')).toBeUndefined();
    expect(compileRoute('orders/{orderId}').match('orders/abc/approval')).toBeUndefined();
    expect(compileRoute('search/{term?}').match('search')).toEqual({});
    expect(compileRoute('files/{*path}').match('files/a/b/c')).toEqual({ path: 'a/b/c' });
    expect(compileRoute('items/{id:int}').match('items/12')).toEqual({ id: '12' });
    expect(compileRoute('items/{id:int}').match('items/twelve')).toBeUndefined();
  });
});
