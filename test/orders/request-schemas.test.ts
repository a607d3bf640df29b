import { HttpRequest } from '@azure/functions';
import { readJsonBody } from '../../src/libs/http';
import { SEED_CATALOG } from '../../local/dependencies/seed-data';
import {
  ApprovalRequest,
  MAX_BODY_BYTES,
  PlaceOrderRequest,
  SKU,
} from '../../src/services/orders/http/request-schemas';

const validOrder = {
  orderId: 'order-1',
  customerId: 'c-1',
  customerEmail: 'ada@example.com',
  currency: 'EUR',
  items: [{ sku: 'MOUSE-ERGO', quantity: 2 }],
  payment: { token: 'tok_visa' },
  shippingAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
};

function request(body: string, contentType = 'application/json'): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: 'http://127.0.0.1/api/orders',
    headers: { 'content-type': contentType },
    body: { string: body },
  });
}

async function parse(body: unknown, contentType?: string) {
  return readJsonBody(
    request(typeof body === 'string' ? body : JSON.stringify(body), contentType),
    PlaceOrderRequest,
    MAX_BODY_BYTES,
  );
}

describe('the place-order request schema', () => {
  it('accepts a valid order and keeps only known keys', async () => {
    const result = await parse(validOrder);
    expect(result).toEqual({ ok: true, value: validOrder });
  });

  it('refuses an order without its id, saying the client chooses it so that a retry is the same order', async () => {
    const { orderId: _omitted, ...withoutId } = validOrder;
    const result = await parse(withoutId);
    expect(!result.ok && result.response.status).toBe(400);
    expect(!result.ok && result.response.jsonBody).toEqual({
      errors: [{ path: 'orderId', message: expect.stringMatching(/required.*client chooses.*retry/) }],
    });
  });

  it('names every bad field at once', async () => {
    const result = await parse({
      ...validOrder,
      orderId: 'has spaces',
      customerEmail: 'not-an-email',
      currency: 'JPY',
      items: [
        { sku: 'A', quantity: 0 },
        { sku: 'A', quantity: 1.5 },
      ],
      shippingAddress: { ...validOrder.shippingAddress, country: 'XX' },
    });
    expect(result.ok).toBe(false);
    const paths = !result.ok
      ? (result.response.jsonBody as { errors: { path: string }[] }).errors.map((error) => error.path)
      : [];
    expect(paths).toEqual(
      expect.arrayContaining([
        'orderId',
        'customerEmail',
        'currency',
        'items[0].quantity',
        'items[1].quantity',
        'items[1].sku',
        'shippingAddress.country',
      ]),
    );
    expect(!result.ok && result.response.status).toBe(400);
  });

  it('refuses unknown keys such as __proto__ and says which', async () => {
    const result = await parse(
      `{"__proto__":{"polluted":true},${JSON.stringify(validOrder).slice(1, -1)},"payment":{"token":"tok_visa","constructor":1}}`,
    );
    expect(result.ok).toBe(false);
    const errors = !result.ok ? (result.response.jsonBody as { errors: unknown[] }).errors : [];
    expect(errors).toHaveLength(2);
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: '__proto__', message: 'unknown field' },
        { path: 'payment.constructor', message: 'unknown field' },
      ]),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers 415 for another content type, 400 for broken JSON, 413 past 64 KB', async () => {
    expect(await parse(validOrder, 'text/plain')).toMatchObject({ ok: false, response: { status: 415 } });
    expect(await parse('{"customerId":')).toMatchObject({
      ok: false,
      response: { status: 400, jsonBody: { errors: [{ path: '(body)' }] } },
    });
    const huge = { ...validOrder, customerId: 'x'.repeat(MAX_BODY_BYTES) };
    expect(await parse(huge)).toMatchObject({ ok: false, response: { status: 413 } });
  });

  it('accepts a JSON content type with parameters', async () => {
    expect((await parse(validOrder, 'application/json; charset=utf-8')).ok).toBe(true);
    expect((await parse(validOrder, 'Application/JSON')).ok).toBe(true);
  });

  it('takes no other +json type for JSON: a JSON Patch or a merge patch means something else', async () => {
    for (const type of [
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/problem+json',
      'application/jsonp',
      'text/json',
    ]) {
      expect(await parse(validOrder, type)).toMatchObject({ ok: false, response: { status: 415 } });
    }
  });

  it('refuses bytes that are not UTF-8 instead of replacing them', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"customerId":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from(`",${JSON.stringify(validOrder).slice(1)}`),
    ]);
    const raw = new HttpRequest({
      method: 'POST',
      url: 'http://127.0.0.1/api/orders',
      headers: { 'content-type': 'application/json' },
      body: { bytes },
    });
    expect(await readJsonBody(raw, PlaceOrderRequest, MAX_BODY_BYTES)).toMatchObject({
      ok: false,
      response: { status: 400, jsonBody: { errors: [{ path: '(body)', message: 'body is not valid UTF-8' }] } },
    });
  });

  it('refuses a customer id that no URL path could carry back (its points are read at /api/loyalty/{id})', async () => {
    for (const customerId of ['a/b', 'a\\b', 'a?b', 'a#b']) {
      const result = await parse({ ...validOrder, customerId });
      expect(result.ok ? [] : (result.response.jsonBody as { errors: { path: string }[] }).errors).toEqual([
        { path: 'customerId', message: 'must not contain / \\ ? or #' },
      ]);
    }
    expect((await parse({ ...validOrder, customerId: 'ada+shop@example.com' })).ok).toBe(true);
  });

  it('names each string field holding NUL, another control character or a lone surrogate', async () => {
    const body = `{${JSON.stringify(validOrder).slice(1, -1).replace('"c-1"', '"c\\u0000-1"').replace('"Berlin"', '"Ber\\u001blin"').replace('"10115"', '"\\ud800"')},"items":[{"sku":"MOUSE\\udc00","quantity":1}]}`;
    const result = await parse(body);
    const paths = !result.ok
      ? (result.response.jsonBody as { errors: { path: string }[] }).errors.map((error) => error.path)
      : [];
    expect(paths.sort()).toEqual(['customerId', 'items[0].sku', 'shippingAddress.city', 'shippingAddress.postalCode']);
    // Tabs, line breaks and paired surrogates (an emoji) are text.
    expect(
      (await parse({ ...validOrder, shippingAddress: { ...validOrder.shippingAddress, line1: '1 Main St\t😀' } })).ok,
    ).toBe(true);
  });

  it('takes a sku of letters, digits, ., _ and - only, naming the line of any other', async () => {
    const skus = [
      '"'.repeat(60) + '00',
      'back\\slash',
      'with space',
      'tab\there',
      'line\nbreak',
      'ümlaut',
      'a'.repeat(65),
      ' ',
    ];
    for (const sku of skus) {
      const result = await parse({ ...validOrder, items: [{ sku, quantity: 1 }] });
      expect({ sku, errors: result.ok ? [] : (result.response.jsonBody as { errors: unknown[] }).errors }).toEqual({
        sku,
        errors: [{ path: 'items[0].sku', message: expect.any(String) }],
      });
    }
    expect(
      await parse({
        ...validOrder,
        items: [
          { sku: ' a', quantity: 1 },
          { sku: 'b', quantity: 1 },
        ],
      }),
    ).toMatchObject({ ok: true });
    for (const sku of ['LAPTOP-PRO-16', 'v1.2_beta-3', 'X'.repeat(64)])
      expect((await parse({ ...validOrder, items: [{ sku, quantity: 1 }] })).ok).toBe(true);
    expect(SEED_CATALOG.filter(({ sku }) => !SKU.test(sku))).toEqual([]);
  });

  it('requires a boolean decision for approvals, and refuses an approver in the body', async () => {
    const result = await readJsonBody(
      request('{"approved":"yes","approver":"mallory"}'),
      ApprovalRequest,
      MAX_BODY_BYTES,
    );
    const errors = !result.ok
      ? (result.response.jsonBody as { errors: { path: string; message: string }[] }).errors
      : [];
    expect(errors).toEqual([
      expect.objectContaining({ path: 'approved' }),
      { path: 'approver', message: 'unknown field' },
    ]);
  });
});

describe('field errors', () => {
  it('are reported once each', async () => {
    const result = await parse({ ...validOrder, items: 5 });
    expect(!result.ok && result.response.jsonBody).toEqual({
      errors: [{ path: 'items', message: 'Invalid input: expected array, received number' }],
    });
  });
});
