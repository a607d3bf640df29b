/**
 * Property-based fuzzing of the two endpoints that can start or steer a saga:
 *   POST /api/orders                      (starts one)
 *   POST /api/orders/{orderId}/approval   (raises the approval event into one)
 *
 * Every generated request is bad in a way whose answer is knowable up front:
 *   a content type that is not JSON      → 415 (whatever the body)
 *   a JSON body over 64 KB               → 413
 *   a JSON body that is not a valid one  → 400 { errors: [{ path, message }] } naming every mutated field
 *   a valid decision for an unknown or malformed order id → 404
 * (every decision is sent by a signed-in approver: see test/orders/approval.test.ts for who may decide)
 * (checked in that order, as README's HTTP API table and libs/http.ts readJsonBody define it).
 * Never a 5xx, and nothing behind the edge moves: no orchestration starts, the order that awaits
 * approval receives no event, no payment is taken, Object.prototype is not polluted.
 */
import fc from 'fast-check';
import { EventType } from '../../local/engine/history';
import { ordersData } from '../../src/services/orders/repository';
import { orderRequest } from '../support/orders';
import { asApprover } from '../support/principals';
import type { TestResponse } from '../../local/engine/testing';
import { startSagaApp, type OrderResponse, type SagaApp } from '../support/saga-app';
import { instanceCount, paymentFootprint } from './helpers';

jest.setTimeout(180_000);

/** Fixed so that a failure replays; set FUZZ_SEED (and FUZZ_RUNS) to explore further. */
const SEED = Number(process.env.FUZZ_SEED ?? 1_234_567);
const RUNS = Number(process.env.FUZZ_RUNS ?? 3_000);
const ORDER_RUNS = Math.ceil(RUNS * (2 / 3));
const APPROVAL_RUNS = RUNS - ORDER_RUNS;
const LIMIT = 64 * 1024;

let app: SagaApp;
let awaitingId: string;
let baseline: { instances: number; prototypeKeys: string[]; arrayPrototypeKeys: string[] };
const tally: Record<number, number> = {};

beforeAll(async () => {
  app = await startSagaApp();
  // One real order waits for approval, so that bad decisions are also aimed at a live saga.
  awaitingId = `awaiting-${process.pid}-${Date.now().toString(36)}`;
  const placed = await app.http('POST', '/api/orders', {
    body: orderRequest({ orderId: awaitingId, items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] }),
  });
  expect(placed.status).toBe(202);
  await app.waitForOrderStatus(awaitingId, 'AwaitingApproval');
  await app.settle();
  baseline = {
    instances: instanceCount(app),
    prototypeKeys: Reflect.ownKeys(Object.prototype).map(String).sort(),
    arrayPrototypeKeys: Reflect.ownKeys(Array.prototype).map(String).sort(),
  };
  expect(baseline.instances).toBe(1);
});
afterAll(async () => {
  await app?.stop();
});

// ---- building bodies ------------------------------------------------------------------------

type Obj = Record<string, unknown>;

/** A JSON fragment written verbatim: deep nesting without building (and stack-walking) the objects. */
class RawJson {
  constructor(readonly text: string) {}
}

/** Marks a field to delete. */
const MISSING = Symbol('missing');

/** JSON.stringify, except that RawJson is written as is and every own key is kept, "__proto__" included. */
function toJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .map((key) => `${JSON.stringify(key)}:${toJson((value as Obj)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Sets an own property whatever its name: `target.__proto__ = x` would change the prototype instead. */
function put(target: Obj, key: string, value: unknown): void {
  if (value === MISSING) delete target[key];
  else Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function nest(depth: number, kind: 'array' | 'object' | 'mixed'): string {
  let open = '';
  let close = '';
  for (let level = 0; level < depth; level += 1) {
    const array = kind === 'array' || (kind === 'mixed' && level % 2 === 0);
    open += array ? '[' : '{"a":';
    close = (array ? ']' : '}') + close;
  }
  return `${open}0${close}`;
}

// ---- bad values -----------------------------------------------------------------------------

const leaf = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
/** Nested junk, up to tens of thousands of levels (which may also push the body over 64 KB). */
const deepJunk = fc
  .record({
    depth: fc.integer({ min: 20, max: 20_000 }),
    kind: fc.constantFrom('array' as const, 'object' as const, 'mixed' as const),
  })
  .map(({ depth, kind }) => new RawJson(nest(depth, kind)));
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: leaf },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: deepJunk },
);
type Kind = 'string' | 'number' | 'boolean' | 'object' | 'array';
const kindOf = (value: unknown): string =>
  value instanceof RawJson
    ? value.text.startsWith('[')
      ? 'array'
      : 'object'
    : Array.isArray(value)
      ? 'array'
      : value === null
        ? 'null'
        : typeof value;
/** Any JSON value but one of the expected kind (for an object field: no object at all, so none can be valid by chance). */
const wrongType = (expected: Kind) => anyJson.filter((value) => kindOf(value) !== expected);

/** Whitespace that String.prototype.trim removes, so a field of only this is empty. */
const blank = fc
  .array(fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0', '\u2003', '\u3000', '\ufeff', '\u2028'), { maxLength: 6 })
  .map((chars) => chars.join(''));
/** Longer than `max` UTF-16 units even after trimming, in any script. */
const tooLong = (max: number) =>
  fc.string({ unit: 'grapheme', minLength: max + 1, maxLength: max + 40 }).map((text) => `x${text}x`);
const badText = (max: number) => fc.oneof(blank, tooLong(max), wrongType('string'), fc.constant(MISSING));

/** Keys that must never be taken for fields, nor reach a prototype. */
const SPECIAL_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  '__lookupGetter__',
  'isPrototypeOf',
  'then',
  'toJSON',
  'total',
  'status',
  'price',
  'isAdmin',
];
const extraKey = (allowed: readonly string[]) =>
  fc
    .oneof(fc.constantFrom(...SPECIAL_KEYS), fc.string({ unit: 'binary', minLength: 1, maxLength: 16 }))
    .filter((key) => !allowed.includes(key));
const extraValue = fc.oneof(
  anyJson,
  fc.constant({ polluted: true }),
  fc.constant({ prototype: { polluted: true } }),
  fc.constant({ constructor: { prototype: { polluted: true } } }),
);

const word = fc.stringMatching(/^[a-z0-9]{1,20}$/);
const domain = fc.stringMatching(/^[a-z0-9]{1,15}\.[a-z]{2,6}$/);
const badEmail = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }).filter((text) => !text.includes('@')),
  fc.tuple(word, word, domain).map(([a, b, d]) => `${a}@${b}@${d}`),
  fc.tuple(word, domain).map(([a, d]) => `${a} ${a}@${d}`),
  domain.map((d) => `@${d}`),
  word.map((a) => `${a}@`),
  fc.tuple(word, domain).map(([a, d]) => `${a}@.${d}`),
  fc.tuple(word, domain).map(([a, d]) => `${a}@${d.replace('.', '..')}`),
  fc.tuple(word, word).map(([a, d]) => `${a}@${d}`),
  fc
    .tuple(
      fc.stringMatching(/^[a-z]{40,64}$/),
      fc.array(fc.stringMatching(/^[a-z]{40,60}$/), { minLength: 4, maxLength: 6 }),
    )
    .map(([local, labels]) => `${local}@${labels.join('.')}.com`)
    .filter((email) => email.length > 254),
  wrongType('string'),
  fc.constant(MISSING),
);
const badCurrency = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 8 }).filter((text) => !['EUR', 'USD', 'GBP'].includes(text)),
  fc.constantFrom('eur', 'Eur', 'JPY', 'EURO', ' EUR', 'EUR ', '€', 'usd'),
  wrongType('string'),
  fc.constant(MISSING),
);
/** Not two capital letters, or two capital letters that name no region at all. */
const badCountry = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 6 }).filter((text) => !/^[A-Z]{2}$/.test(text)),
  fc.constantFrom('de', 'De', ' DE', 'DE ', 'DEU', 'D', 'AA', 'QM', 'QZ', 'XC', 'XX', 'XZ', 'ZY', 'OO', 'JA'),
  wrongType('string'),
  fc.constant(MISSING),
);
const badOrderId = fc.oneof(
  fc.constant(''),
  fc.stringMatching(/^[A-Za-z0-9_-]{65,90}$/),
  fc
    .tuple(
      fc.stringMatching(/^[A-Za-z0-9_-]{0,10}$/),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }).filter((text) => /[^A-Za-z0-9_-]/.test(text)),
      fc.stringMatching(/^[A-Za-z0-9_-]{0,10}$/),
    )
    .map((parts) => parts.join('')),
  fc.constantFrom('order-1\n', ' order-1', 'order 1', 'order/1', '../order'),
  wrongType('string'),
  fc.constant(MISSING),
);
const badQuantity = fc.oneof(
  fc.integer({ min: -1_000_000_000, max: 0 }),
  fc.integer({ min: 1001, max: 2 ** 31 }),
  fc.double({ min: 1, max: 1000, noNaN: true }).filter((value) => !Number.isInteger(value)),
  fc.constantFrom(1e21, 1e308, -1e308, 5e-324, 1000.5, 0.999),
  wrongType('number'),
  fc.constant(MISSING),
);

// ---- mutations of a valid order -------------------------------------------------------------

interface Mutation {
  /** Each name must appear as an error path, or as the start of one (`items` ~ `items[2].sku`). */
  names: string[];
  apply(order: Obj): void;
}

const TOP_KEYS = ['orderId', 'customerId', 'customerEmail', 'currency', 'items', 'payment', 'shippingAddress'];
const setTo =
  (field: string) =>
  (value: unknown): Mutation => ({ names: [field], apply: (order) => put(order, field, value) });

const skuName = fc.stringMatching(/^[A-Z0-9][A-Z0-9-]{0,19}$/);
const validLine = fc.record({ sku: skuName, quantity: fc.integer({ min: 1, max: 1000 }) });
const validLines = (min: number, max: number) =>
  fc.uniqueArray(validLine, { selector: (line) => line.sku, minLength: min, maxLength: max });

/** One bad line among valid ones: the line as an object, and the name of what is wrong with it at index `at`. */
const badLine: fc.Arbitrary<{ line: unknown; name: (at: number) => string }> = fc.oneof(
  fc.tuple(validLine, badQuantity).map(([line, quantity]) => {
    const bad: Obj = { ...line };
    put(bad, 'quantity', quantity);
    return { line: bad, name: () => 'items' };
  }),
  fc.tuple(validLine, badText(64)).map(([line, sku]) => {
    const bad: Obj = { ...line };
    put(bad, 'sku', sku);
    return { line: bad, name: () => 'items' };
  }),
  fc.tuple(validLine, extraKey(['sku', 'quantity']), extraValue).map(([line, key, value]) => {
    const bad: Obj = { ...line };
    put(bad, key, value);
    return { line: bad, name: (at: number) => `items[${at}].${key}` };
  }),
  wrongType('object').map((line) => ({ line, name: () => 'items' })),
);

const itemsMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant([]).map(setTo('items')),
  validLines(51, 60).map(setTo('items')),
  wrongType('array').map(setTo('items')),
  fc.constant(MISSING).map(setTo('items')),
  deepJunk.map((junk) => setTo('items')(new RawJson(`[${junk.text}]`))),
  fc.tuple(validLines(0, 4), fc.nat(), badLine).map(([lines, position, bad]): Mutation => {
    const at = position % (lines.length + 1);
    const items: unknown[] = [...lines];
    items.splice(at, 0, bad.line);
    return { names: [bad.name(at)], apply: (order) => put(order, 'items', items) };
  }),
  // The same sku on two lines, each line valid on its own.
  fc
    .tuple(validLines(1, 5), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 1000 }))
    .map(([lines, from, position, quantity]): Mutation => {
      const items: unknown[] = [...lines];
      items.splice(position % (lines.length + 1), 0, { sku: lines[from % lines.length].sku, quantity });
      return { names: ['items'], apply: (order) => put(order, 'items', items) };
    }),
);

const paymentMutation: fc.Arbitrary<Mutation> = fc.oneof(
  wrongType('object').map(setTo('payment')),
  fc.constant(MISSING).map(setTo('payment')),
  badText(128).map((token): Mutation => ({
    names: ['payment'],
    apply: (order) => put(order.payment as Obj, 'token', token),
  })),
  fc.tuple(extraKey(['token']), extraValue).map(([key, value]): Mutation => ({
    names: [`payment.${key}`],
    apply: (order) => put(order.payment as Obj, key, value),
  })),
);

const ADDRESS_LIMITS = { line1: 200, city: 100, postalCode: 16 } as const;
const addressMutation: fc.Arbitrary<Mutation> = fc.oneof(
  wrongType('object').map(setTo('shippingAddress')),
  fc.constant(MISSING).map(setTo('shippingAddress')),
  fc.constantFrom(...(Object.keys(ADDRESS_LIMITS) as (keyof typeof ADDRESS_LIMITS)[])).chain((field) =>
    badText(ADDRESS_LIMITS[field]).map((value): Mutation => ({
      names: ['shippingAddress'],
      apply: (order) => put(order.shippingAddress as Obj, field, value),
    })),
  ),
  badCountry.map((country): Mutation => ({
    names: ['shippingAddress'],
    apply: (order) => put(order.shippingAddress as Obj, 'country', country),
  })),
  fc.tuple(extraKey(['line1', 'city', 'postalCode', 'country']), extraValue).map(([key, value]): Mutation => ({
    names: [`shippingAddress.${key}`],
    apply: (order) => put(order.shippingAddress as Obj, key, value),
  })),
);

const ORDER_AREAS: Record<string, fc.Arbitrary<Mutation>> = {
  orderId: badOrderId.map(setTo('orderId')),
  customerId: badText(64).map(setTo('customerId')),
  customerEmail: badEmail.map(setTo('customerEmail')),
  currency: badCurrency.map(setTo('currency')),
  items: itemsMutation,
  payment: paymentMutation,
  shippingAddress: addressMutation,
  extraKey: fc
    .tuple(extraKey(TOP_KEYS), extraValue)
    .map(([key, value]): Mutation => ({ names: [key], apply: (order) => put(order, key, value) })),
};

/** A valid order with its own order id (never placed: the ids are random). */
const validOrder: fc.Arbitrary<Obj> = fc
  .stringMatching(/^fuzz-[A-Za-z0-9_-]{8,40}$/)
  .map((orderId) => clone(orderRequest({ orderId })) as unknown as Obj);

/** A valid order with 1-4 of its areas made bad. */
const mutatedOrder = fc
  .tuple(
    validOrder,
    fc
      .subarray(Object.keys(ORDER_AREAS), { minLength: 1, maxLength: 4 })
      .chain((areas) => fc.tuple(...areas.map((area) => ORDER_AREAS[area]))),
  )
  .map(([order, mutations]) => {
    for (const mutation of mutations) mutation.apply(order);
    return { text: toJson(order), names: mutations.flatMap((mutation) => mutation.names) };
  });

// ---- mutations of a valid approval decision -------------------------------------------------

// Who decides comes from the client principal; an approver in the body is a field too many.
const validDecision = fc.record({ approved: fc.boolean() });
const DECISION_AREAS: Record<string, fc.Arbitrary<Mutation>> = {
  approved: fc
    .oneof(wrongType('boolean'), fc.constantFrom('true', 'false', 'yes', 1, 0, MISSING))
    .map(setTo('approved')),
  approver: fc
    .oneof(
      fc.stringMatching(/^[A-Za-z][A-Za-z .'-]{0,30}[A-Za-z]$/),
      badText(100).filter((value) => value !== MISSING),
    )
    .map(setTo('approver')),
  extraKey: fc
    .tuple(extraKey(['approved', 'approver']), extraValue)
    .map(([key, value]): Mutation => ({ names: [key], apply: (decision) => put(decision, key, value) })),
};
const mutatedDecision = fc
  .tuple(
    validDecision,
    fc
      .subarray(Object.keys(DECISION_AREAS), { minLength: 1 })
      .chain((areas) => fc.tuple(...areas.map((area) => DECISION_AREAS[area]))),
  )
  .map(([decision, mutations]) => {
    const body = { ...decision } as Obj;
    for (const mutation of mutations) mutation.apply(body);
    return { text: toJson(body), names: mutations.flatMap((mutation) => mutation.names) };
  });

// ---- whole bodies that are not an object of the right shape ---------------------------------

const VALID_TEXT = toJson(orderRequest({ orderId: 'fuzz-valid-text' }));
const invalidJson = fc.oneof(
  fc.nat({ max: VALID_TEXT.length - 1 }).map((length) => VALID_TEXT.slice(0, length)),
  fc.constantFrom('x', ',', '}', ']', 'null', '//', '/* */', '\u0000').map((tail) => VALID_TEXT + tail),
  fc.constantFrom(
    VALID_TEXT.replace(/"/g, "'"),
    VALID_TEXT.replace('}', ',}'),
    VALID_TEXT.replace('"quantity":2', '"quantity":NaN'),
    VALID_TEXT.replace('"quantity":2', '"quantity":+2'),
    VALID_TEXT.replace('"quantity":2', '"quantity":02'),
    VALID_TEXT.replace('"quantity":2', '"quantity":Infinity'),
    VALID_TEXT.replace('"ada"', '"a\u0001da"'),
    VALID_TEXT.replace('"ada"', '"ada\\x41"'),
    VALID_TEXT.replace('"ada"', 'ada'),
    `[${VALID_TEXT}`,
  ),
);
const nonObjectJson = fc.oneof(
  fc.constantFrom('null', '[]', '"order"', '42', 'true', `[${VALID_TEXT}]`, JSON.stringify(VALID_TEXT)),
  leaf.map((value) => JSON.stringify(value)),
);
/** Bodies with the wrong shape as a whole: the error is the body's, `(body)`. */
const wholeBodyWrong = fc.oneof(invalidJson, nonObjectJson).map((text) => ({ text, names: ['(body)'] }));
/** Arbitrary text or bytes: nothing to say about the paths, only that they are well formed. */
const arbitraryBody = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  )
  .map((text) => ({ text, names: [] as string[] }));

// ---- bodies at the 64 KB limit --------------------------------------------------------------

const FILL = 'FILL-7f3a';
/**
 * A body of LIMIT + delta bytes whose only fault is one field (or key) stretched to tens of KB
 * with characters of 1-4 UTF-8 bytes: 400 at or under the limit, 413 over it.
 */
function sizedBody(template: string, name: string) {
  return fc
    .record({
      delta: fc.oneof(
        fc.integer({ min: -16, max: 16 }),
        fc.integer({ min: -4000, max: 4000 }),
        fc.integer({ min: 1, max: 200_000 }),
      ),
      fill: fc.constantFrom('x', 'é', '€', '😀', 'Ωx'),
    })
    .map(({ delta, fill }) => {
      const rest = Buffer.byteLength(template) - FILL.length;
      let budget = Math.max(LIMIT + delta - rest, 1_000);
      const unit = Buffer.byteLength(fill);
      let filler = fill.repeat(Math.floor(budget / unit));
      budget -= Buffer.byteLength(filler);
      filler = `${filler}${'x'.repeat(budget)}`;
      return { text: template.replace(FILL, filler), names: [name] };
    });
}
const orderWith = (field: string, value: string) => {
  const order = clone(orderRequest()) as unknown as Obj;
  put(order, field, value);
  return toJson(order);
};
const sizedOrder = fc.oneof(
  sizedBody(orderWith('customerId', FILL), 'customerId'),
  sizedBody(orderWith('orderId', FILL), 'orderId'),
  sizedBody(toJson({ ...orderRequest(), items: [{ sku: FILL, quantity: 1 }] }), 'items'),
  sizedBody(
    toJson({ ...orderRequest(), shippingAddress: { ...orderRequest().shippingAddress, line1: FILL } }),
    'shippingAddress',
  ),
  sizedBody(orderWith(FILL, 'unknown key'), FILL).map(({ text }) => {
    const key = Object.keys(JSON.parse(text) as Obj).find((candidate) => !TOP_KEYS.includes(candidate))!;
    return { text, names: [key] };
  }),
);
const sizedDecision = sizedBody(toJson({ approved: true, approver: FILL }), 'approver');

// ---- headers --------------------------------------------------------------------------------

const token = fc.stringMatching(/^[A-Za-z0-9!#$&^_.+-]{1,12}$/);
const printable = (maxLength: number) => fc.string({ unit: 'grapheme-ascii', maxLength });
const parameters = fc
  .array(
    fc.tuple(token, printable(20)).map(([name, value]) => `; ${name}=${value.replace(/[;,]/g, '')}`),
    { maxLength: 2 },
  )
  .map((list) => list.join(''));

/** Media types this API must take as JSON: application/json and any +json type, with any parameters. */
const jsonMediaType = fc.oneof(
  fc.constantFrom('application/json', 'Application/JSON', 'application/json; charset=utf-8'),
  fc
    .tuple(
      fc.constantFrom('application/json', 'APPLICATION/JSON'),
      fc.oneof(
        printable(30).map((junk) => `; charset=${junk}`),
        parameters,
        fc.constantFrom(';', ';;;', '; charset=', '; charset="utf-8"', ';charset=utf-1000', '; charset=ebcdic'),
      ),
    )
    .map(([type, junk]) => `${type}${junk}`),
);
/** Anything else, or no content type at all (undefined). */
const nonJsonMediaType: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constantFrom(
    undefined,
    '',
    ' ',
    'text/plain',
    'text/plain; charset=utf-8',
    'text/html',
    'multipart/form-data; boundary=----fuzz',
    'multipart/mixed',
    'application/x-www-form-urlencoded',
    'application/xml',
    'application/octet-stream',
    'application/jsonx',
    // Other +json types mean something else: a JSON Patch, a merge patch, a problem report.
    'application/json-patch+json',
    'application/merge-patch+json',
    'application/problem+json',
    'application/vnd.contoso.order+json',
    'application/json5',
    'application/jsonp',
    'application/json-seq',
    'application/x-json',
    'application/x-ndjson',
    'application/json+xml',
    'application/ json',
    'application/+json',
    'json',
    'application',
    '*/*',
    'application/*',
    'image/png',
  ),
  fc
    .tuple(token, token, parameters)
    .filter(
      ([type, subtype]) =>
        !(
          type.toLowerCase() === 'application' &&
          (subtype.toLowerCase() === 'json' || subtype.toLowerCase().endsWith('+json'))
        ),
    )
    .map(([type, subtype, params]) => `${type}/${subtype}${params}`),
);
const contentType = fc.oneof(
  { weight: 4, arbitrary: jsonMediaType.map((type) => ({ type: type as string | undefined, json: true })) },
  { weight: 1, arbitrary: nonJsonMediaType.map((type) => ({ type, json: false })) },
);
const SAFE_CORRELATION = /^[A-Za-z0-9._:-]{1,128}$/;
const otherHeaders = fc.record(
  {
    'x-correlation-id': fc.oneof(fc.stringMatching(SAFE_CORRELATION), printable(200)),
    accept: printable(40),
    'x-forwarded-for': printable(40),
    'x-fuzz': printable(100),
  },
  { requiredKeys: [] },
);

// ---- probes ---------------------------------------------------------------------------------

/** What the body alone deserves: 400 naming `names`, 404 (valid decision, no such order), or acceptance. */
type Verdict = { status: 400; names: string[] } | { status: 404 } | { status: 'accepted' };

interface Probe {
  kind: string;
  path: string;
  body: string | Buffer;
  contentType: string | undefined;
  json: boolean;
  headers: Record<string, string>;
  verdict: Verdict;
}

const bytesOf = (body: string | Buffer) => (typeof body === 'string' ? Buffer.byteLength(body) : body.length);

function expectedStatus(probe: Probe): number {
  if (!probe.json) return 415;
  if (bytesOf(probe.body) > LIMIT) return 413;
  if (probe.verdict.status === 'accepted') throw new Error('a probe must not be a request that deserves acceptance');
  return probe.verdict.status;
}

/** Short enough to read in a counterexample. */
function describeProbe(probe: Probe): string {
  const text = typeof probe.body === 'string' ? probe.body : `<${probe.body.length} bytes>`;
  const preview = text.length > 300 ? `${text.slice(0, 300)}…(${bytesOf(probe.body)} bytes)` : text;
  return `${probe.kind}: POST ${probe.path.slice(0, 200)} content-type=${JSON.stringify(probe.contentType)} headers=${JSON.stringify(probe.headers).slice(0, 300)} body=${JSON.stringify(preview)} → expect ${expectedStatus(probe)}`;
}

function probe(
  fields: Omit<Probe, 'contentType' | 'json' | 'headers'>,
  type: { type: string | undefined; json: boolean },
  headers: Record<string, string>,
): Probe {
  const built: Probe = { ...fields, contentType: type.type, json: type.json, headers };
  return Object.assign(built, { [fc.toStringMethod]: () => describeProbe(built) });
}

const badOrderBody = fc.oneof(
  { weight: 10, arbitrary: mutatedOrder.map((body) => ({ ...body, kind: 'mutated order' })) },
  { weight: 2, arbitrary: wholeBodyWrong.map((body) => ({ ...body, kind: 'not an order' })) },
  { weight: 1, arbitrary: arbitraryBody.map((body) => ({ ...body, kind: 'arbitrary body' })) },
  { weight: 2, arbitrary: sizedOrder.map((body) => ({ ...body, kind: 'order at the size limit' })) },
);

const orderProbe: fc.Arbitrary<Probe> = fc.oneof(
  // A bad body under any content type.
  {
    weight: 6,
    arbitrary: fc
      .tuple(badOrderBody, contentType, otherHeaders)
      .map(([{ kind, text, names }, type, headers]) =>
        probe({ kind, path: '/api/orders', body: text, verdict: { status: 400, names } }, type, headers),
      ),
  },
  // A perfectly valid order, sent as something that is not JSON.
  {
    weight: 1,
    arbitrary: fc
      .tuple(validOrder, nonJsonMediaType, otherHeaders)
      .map(([order, type, headers]) =>
        probe(
          { kind: 'valid order, not JSON', path: '/api/orders', body: toJson(order), verdict: { status: 'accepted' } },
          { type, json: false },
          headers,
        ),
      ),
  },
);

type Target = { id: string; exists: boolean };
const unknownId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/).filter((id) => id !== awaitingId);
const malformedId = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 80 })
  .filter((id) => !/^[A-Za-z0-9_-]{1,64}$/.test(id) && id !== '.' && id !== '..');
const absentTarget: fc.Arbitrary<Target> = fc.oneof(unknownId, malformedId).map((id) => ({ id, exists: false }));
const anyTarget: fc.Arbitrary<Target> = fc.oneof(
  absentTarget,
  fc.constant(null).map(() => ({ id: awaitingId, exists: true })),
);
const approvalPath = (target: Target) => `/api/orders/${encodeURIComponent(target.id)}/approval`;

const badDecisionBody = fc.oneof(
  { weight: 10, arbitrary: mutatedDecision.map((body) => ({ ...body, kind: 'mutated decision' })) },
  { weight: 2, arbitrary: wholeBodyWrong.map((body) => ({ ...body, kind: 'not a decision' })) },
  { weight: 1, arbitrary: arbitraryBody.map((body) => ({ ...body, kind: 'arbitrary body' })) },
  { weight: 2, arbitrary: sizedDecision.map((body) => ({ ...body, kind: 'decision at the size limit' })) },
);

const approvalProbe: fc.Arbitrary<Probe> = fc.oneof(
  // A bad decision, for the awaiting order or one that does not exist, under any content type.
  {
    weight: 6,
    arbitrary: fc
      .tuple(badDecisionBody, anyTarget, contentType, otherHeaders)
      .map(([{ kind, text, names }, target, type, headers]) =>
        probe(
          {
            kind: `${kind} for ${target.exists ? 'the awaiting order' : 'no order'}`,
            path: approvalPath(target),
            body: text,
            verdict: { status: 400, names },
          },
          type,
          headers,
        ),
      ),
  },
  // A valid decision for an order id that is unknown or malformed.
  {
    weight: 3,
    arbitrary: fc
      .tuple(validDecision, absentTarget, contentType, otherHeaders)
      .map(([decision, target, type, headers]) =>
        probe(
          {
            kind: 'valid decision for no order',
            path: approvalPath(target),
            body: toJson(decision),
            verdict: { status: 404 },
          },
          type,
          headers,
        ),
      ),
  },
  // A valid decision for the awaiting order, sent as something that is not JSON.
  {
    weight: 1,
    arbitrary: fc.tuple(validDecision, nonJsonMediaType, otherHeaders).map(([decision, type, headers]) =>
      probe(
        {
          kind: 'valid decision, not JSON',
          path: approvalPath({ id: awaitingId, exists: true }),
          body: toJson(decision),
          verdict: { status: 'accepted' },
        },
        { type, json: false },
        headers,
      ),
    ),
  },
);

// ---- the property ---------------------------------------------------------------------------

async function send(probe: Probe): Promise<TestResponse> {
  // Decisions come from a signed-in approver, so each answer is about the request itself.
  const headers: Record<string, string> = probe.path.endsWith('/approval')
    ? { ...asApprover('fuzz-approver'), ...probe.headers }
    : { ...probe.headers };
  if (probe.contentType !== undefined) headers['content-type'] = probe.contentType;
  return app.http('POST', probe.path, { rawBody: probe.body, headers });
}

function fail(probe: Probe, response: TestResponse, why: string): never {
  throw new Error(
    `${why}\n  request: ${describeProbe(probe)}\n  answer: ${response.status} ${response.text.slice(0, 500)}`,
  );
}

function checkFieldErrors(probe: Probe, response: TestResponse, names: readonly string[]): void {
  const errors = (response.json as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) fail(probe, response, 'a 400 must carry { errors: [...] }');
  for (const error of errors as { path?: unknown; message?: unknown }[]) {
    if (
      typeof error?.path !== 'string' ||
      error.path === '' ||
      typeof error.message !== 'string' ||
      error.message === ''
    ) {
      fail(probe, response, `every error needs a non-empty string path and message, got ${JSON.stringify(error)}`);
    }
  }
  const paths = (errors as { path: string }[]).map((error) => error.path);
  for (const name of names) {
    if (!paths.some((path) => path === name || path.startsWith(`${name}.`) || path.startsWith(`${name}[`)))
      fail(probe, response, `no error names ${JSON.stringify(name)}`);
  }
}

function raisedEvents(): number {
  const record = app.engine.store.get(awaitingId);
  if (!record) throw new Error('the awaiting order is gone');
  return [...record.history, ...record.inbox].filter((event) => event.EventType === EventType.EventRaised).length;
}

async function check(probe: Probe): Promise<void> {
  // Let the event loop turn, as a real host's does between requests. Thousands of answers that need no
  // I/O would otherwise starve it for seconds; the durable client's next call could then reuse a
  // keep-alive socket that the engine's server (5 s keep-alive, as long as node's agent keeps idle
  // sockets) closes in the same turn: ECONNRESET, answered as a 500.
  await new Promise((resolve) => setImmediate(resolve));
  const expected = expectedStatus(probe);
  const response = await send(probe);
  tally[response.status] = (tally[response.status] ?? 0) + 1;
  if (response.status !== expected) fail(probe, response, `expected ${expected}, got ${response.status}`);
  if (probe.verdict.status === 400 && expected === 400) checkFieldErrors(probe, response, probe.verdict.names);
  if (probe.path === '/api/orders') {
    // The correlation id is echoed only when it is a sane token; junk is never reflected into a header.
    const sent = probe.headers['x-correlation-id']?.trim();
    const echoed = response.headers['x-correlation-id'];
    if (
      !echoed ||
      !SAFE_CORRELATION.test(echoed) ||
      (sent !== undefined && SAFE_CORRELATION.test(sent) && echoed !== sent)
    ) {
      fail(probe, response, `x-correlation-id answered as ${JSON.stringify(echoed)}`);
    }
  }
  if (instanceCount(app) !== baseline.instances) fail(probe, response, 'an orchestration was started');
  if (raisedEvents() !== 0) fail(probe, response, 'an event was raised into the awaiting order');
}

describe('fuzzing the write endpoints with bad requests', () => {
  it(`POST /api/orders: ${ORDER_RUNS} bad requests each answer their 4xx and start nothing (fast-check seed ${SEED})`, async () => {
    await fc.assert(fc.asyncProperty(orderProbe, check), { seed: SEED, numRuns: ORDER_RUNS });
  });

  it(`POST /api/orders/{orderId}/approval: ${APPROVAL_RUNS} bad requests each answer their 4xx and raise nothing (fast-check seed ${SEED})`, async () => {
    await fc.assert(fc.asyncProperty(approvalProbe, check), { seed: SEED + 1, numRuns: APPROVAL_RUNS });
  });

  it('afterwards: no orchestration started, no event raised, no payment taken, no prototype polluted', async () => {
    console.log(`fuzz (seed ${SEED}): answers by status ${JSON.stringify(tally)}`);
    await app.settle();
    expect(app.engine.listInstances().map((instance) => instance.instanceId)).toEqual([awaitingId]);
    expect(raisedEvents()).toBe(0);
    expect(((await app.http('GET', `/api/orders/${awaitingId}`)).json as OrderResponse).status).toBe(
      'AwaitingApproval',
    );
    expect(await paymentFootprint()).toEqual({ payments: 0, ledger: 0 });
    const { resources: orders } = await ordersData.container('orders').items.readAll<{ id: string }>().fetchAll();
    expect(orders.map((order) => order.id)).toEqual([awaitingId]);

    expect(Reflect.ownKeys(Object.prototype).map(String).sort()).toEqual(baseline.prototypeKeys);
    expect(Reflect.ownKeys(Array.prototype).map(String).sort()).toEqual(baseline.arrayPrototypeKeys);
    for (const key of ['polluted', 'isAdmin', 'then', 'total', 'status', 'price']) expect(key in {}).toBe(false);

    // The order that waited the whole time ends by its timeout, not by any decision the fuzzer sent.
    await app.settle({ fastForward: true });
    const final = (await app.http('GET', `/api/orders/${awaitingId}`)).json as OrderResponse;
    expect({ status: final.status, reason: final.reason }).toEqual({
      status: 'Rejected',
      reason: 'no approval decision before the timeout',
    });
    expect(instanceCount(app)).toBe(1);
    expect(await paymentFootprint()).toEqual({ payments: 0, ledger: 0 });
  });
});

/**
 * Cases the fuzzer's generators found or point at, pinned as plain examples so that their answer
 * is visible by name. Each counts the orchestrations it may start itself.
 */
describe('bad fields that must be refused at the edge', () => {
  it('a sku of only whitespace answers 400 naming the line, never 500; a padded sku is trimmed like every other text field', async () => {
    const before = instanceCount(app);
    const blankSku = await app.http('POST', '/api/orders', {
      body: orderRequest({ items: [{ sku: ' ', quantity: 1 }] }),
    });
    expect({
      status: blankSku.status,
      paths: (blankSku.json as { errors?: { path: string }[] } | undefined)?.errors?.map((error) => error.path),
    }).toEqual({ status: 400, paths: ['items[0].sku'] });
    // One line per sku holds for the trimmed sku too.
    const paddedTwice = await app.http('POST', '/api/orders', {
      body: orderRequest({
        items: [
          { sku: 'MOUSE-ERGO', quantity: 1 },
          { sku: 'MOUSE-ERGO ', quantity: 1 },
        ],
      }),
    });
    expect({
      status: paddedTwice.status,
      paths: (paddedTwice.json as { errors?: { path: string }[] } | undefined)?.errors?.map((error) => error.path),
    }).toEqual({ status: 400, paths: ['items[1].sku'] });
    expect(instanceCount(app)).toBe(before);

    const orderId = `padded-${process.pid}-${Date.now().toString(36)}`;
    const padded = await app.http('POST', '/api/orders', {
      body: orderRequest({ orderId, items: [{ sku: ' MOUSE-ERGO ', quantity: 1 }] }),
    });
    expect(padded.status).toBe(202);
    const final = await app.settleOrder(orderId);
    expect({ status: final.status, total: final.total }).toEqual({ status: 'Completed', total: 79.5 });
  });

  // ICU (Intl.DisplayNames) has a name for each of these, but none is an assigned ISO 3166-1 alpha-2 code:
  // exceptionally or transitionally reserved, withdrawn, or user-assigned ("ZZ" is ICU's "Unknown Region").
  const NOT_ISO_3166_1 = [
    'AC',
    'AN',
    'BU',
    'CP',
    'CQ',
    'CS',
    'DD',
    'DG',
    'DY',
    'EA',
    'EU',
    'EZ',
    'FX',
    'HV',
    'IC',
    'NH',
    'QO',
    'RH',
    'SU',
    'TA',
    'TP',
    'UK',
    'UN',
    'VD',
    'XA',
    'XB',
    'XK',
    'YD',
    'YU',
    'ZR',
    'ZZ',
  ];

  it('a region code that is not an ISO 3166-1 alpha-2 country code answers 400 and starts no saga', async () => {
    const before = instanceCount(app);
    const answers: Record<string, number> = {};
    for (const country of NOT_ISO_3166_1) {
      const response = await app.http('POST', '/api/orders', {
        body: orderRequest({ shippingAddress: { ...orderRequest().shippingAddress, country } }),
      });
      answers[country] = response.status;
    }
    expect(answers).toEqual(Object.fromEntries(NOT_ISO_3166_1.map((country) => [country, 400])));
    expect(instanceCount(app)).toBe(before);
  });
});
