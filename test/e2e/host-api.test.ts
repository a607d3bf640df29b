/**
 * The offline host over real HTTP, as a separate process: the app's status links, the durable
 * management API (webhook and RPC routes), the SDK's own DurableClient talking to it, and bad
 * input, which gets a clear 4xx and never takes the host down.
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { readFileSync } from 'node:fs';
import { durableClientData } from '../../local/engine/client-binding';
import { stateFile } from '../../local/host/dependencies';
import { isRunning } from '../../local/host/processes';
import { provisionLocalDatabases, seedDemoCatalog } from '../../local/dependencies/provision';
import { resetCosmosClients } from '../../src/libs/cosmos';
import { factType } from '../../src/libs/events';
import { APPROVAL_EVENT, PLACE_ORDER_ORCHESTRATION } from '../../src/services/orders/contract';
import type { OrderView, PlaceOrderInput } from '../../src/services/orders/order-view';
import { hostFixture, type HostFixture, type HostProcess } from './support/host-process';
import { call, rawExchange, until } from './support/http';

jest.setTimeout(120_000);

let fixture: HostFixture | undefined;
let host: HostProcess;
let base: string;
const webhooks = () => `${base}/runtime/webhooks/durabletask`;

beforeAll(async () => {
  fixture = hostFixture('api');
  host = await fixture.start('data', {
    DURABLE_TIME_SCALE: '3600',
    HTTP_MAX_BODY_BYTES: String(1024 * 1024),
    // Short enough for the slow-headers test (408). The whole-request timeout stays at its default
    // (30 s): at 3 s it raced the body limit, and a host starved of CPU answered the chunked body
    // with 408 before it had read the megabyte it needs to say 413.
    HTTP_HEADERS_TIMEOUT_MS: '1000',
  });
  base = host.baseUrl;
});

afterAll(async () => {
  await fixture?.cleanup([host]);
});

let sequence = 0;
const newId = (label: string) => `${label}-${Date.now().toString(36)}-${(sequence += 1)}`;

const order = (orderId: string, items = [{ sku: 'MOUSE-ERGO', quantity: 1 }]) => ({
  orderId,
  customerId: 'ada',
  customerEmail: 'ada@example.com',
  currency: 'EUR',
  items,
  payment: { token: 'tok_visa' },
  shippingAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
});

/** The orchestration input the app's POST /api/orders would build: a laptop, so it waits for approval. */
const largeOrderInput = (orderId: string): PlaceOrderInput => {
  const { payment, ...placed } = order(orderId, [{ sku: 'LAPTOP-PRO-16', quantity: 1 }]);
  return {
    order: {
      ...placed,
      type: factType('orders', 'OrderPlaced'),
      correlationId: `corr-${orderId}`,
      currency: 'EUR',
      paymentToken: payment.token,
      placedAt: new Date().toISOString(),
    },
    policy: { approvalThreshold: 1000, approvalTimeoutMs: 24 * 3600 * 1000 },
  };
};

interface StatusPayload {
  instanceId: string;
  runtimeStatus: string;
  customStatus: OrderView | null;
  output: unknown;
  historyEvents?: { EventType: string; FunctionName?: string; Name?: string }[];
}

const awaitingApproval = (status: { json: StatusPayload }) => status.json?.customStatus?.status === 'AwaitingApproval';

describe('the app over HTTP', () => {
  it('POST /api/orders answers 202 with a Location that a plain GET follows to the finished order', async () => {
    const orderId = newId('follow');
    const placed = await call('POST', `${base}/api/orders`, order(orderId));
    expect(placed.status).toBe(202);
    const location = placed.headers.get('location')!;
    expect(location).toBe(`${base}/api/orders/${orderId}`);
    const done = await until(
      () => call<OrderView>('GET', location),
      (response) => response.json.status === 'Completed',
    );
    expect(done.status).toBe(200);
    expect(done.json.steps.map((step) => step.name)).toEqual([
      'validate',
      'pay',
      'reserve',
      'confirm',
      'analytics',
      'ship',
    ]);
    // The order's start and status reads went through the app's durable client: answered in
    // process, none of them over the RPC port (the host warns if the SDK's axios calls it).
    expect(host.output()).toContain("the app's durable client calls are answered in process");
    expect(host.output()).not.toContain('a durable client call reached the RPC port');
  });

  it('does not check function keys, like func start', async () => {
    expect((await call('GET', `${base}/api/catalog`)).status).toBe(200);
    expect((await call('GET', `${base}/api/catalog?code=not-a-key`)).status).toBe(200);
    expect((await call('GET', `${base}/api/catalog`, undefined, { 'x-functions-key': 'not-a-key' })).status).toBe(200);
  });

  it('serves the timeline page and the order list', async () => {
    const page = await call('GET', `${base}/api/timeline`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('Order saga timeline');
    const list = await call<{ orders: { orderId: string }[] }>('GET', `${base}/api/orders?limit=5`);
    expect(list.status).toBe(200);
    expect(list.json.orders.length).toBeGreaterThan(0);
  });
});

describe('queue triggers and the home page', () => {
  it('runs the loyalty queue trigger: a completed order earns its points with no request to loyalty', async () => {
    const orderId = newId('loyal');
    const customerId = `cust-${orderId}`;
    expect((await call('POST', `${base}/api/orders`, { ...order(orderId), customerId })).status).toBe(202);
    const done = await until(
      () => call<OrderView>('GET', `${base}/api/orders/${orderId}`),
      (response) => response.json.status === 'Completed',
    );
    const points = await until(
      () => call<{ points: number; entries: { orderId: string }[] }>('GET', `${base}/api/loyalty/${customerId}`),
      (response) => response.json.points > 0,
    );
    expect(points.json).toMatchObject({ points: Math.floor(done.json.total!), entries: [{ orderId }] });
  });

  it('GET / leads to the timeline, keeping the query', async () => {
    const home = await fetch(`${base}/?code=k`, { redirect: 'manual' });
    expect(home.status).toBe(302);
    expect(home.headers.get('location')).toBe('/api/timeline?code=k');
  });
});

describe('the durable management API over HTTP', () => {
  let instanceId: string;
  let links: Record<string, string>;

  it('starts an orchestration: 202, Location and the documented management links', async () => {
    instanceId = newId('webhook');
    const started = await call<Record<string, string>>(
      'POST',
      `${webhooks()}/orchestrators/${PLACE_ORDER_ORCHESTRATION}/${instanceId}`,
      largeOrderInput(instanceId),
    );
    expect(started.status).toBe(202);
    links = started.json;
    expect(links).toEqual(
      expect.objectContaining({
        id: instanceId,
        statusQueryGetUri: expect.stringContaining(`${webhooks()}/instances/${instanceId}?`),
        sendEventPostUri: expect.stringContaining('/raiseEvent/{eventName}?'),
        terminatePostUri: expect.stringContaining('/terminate?reason={text}&'),
        purgeHistoryDeleteUri: expect.stringContaining(`/instances/${instanceId}?`),
      }),
    );
    expect(started.headers.get('location')).toBe(links.statusQueryGetUri);
  });

  it('answers status with 202 while it runs, and with its history when asked', async () => {
    const running = await until(() => call<StatusPayload>('GET', links.statusQueryGetUri), awaitingApproval);
    expect(running.status).toBe(202);
    expect(running.json).toMatchObject({ instanceId, runtimeStatus: 'Running' });
    const withHistory = await call<StatusPayload>(
      'GET',
      `${links.statusQueryGetUri}&showHistory=true&showHistoryOutput=true`,
    );
    expect(withHistory.json.historyEvents![0]).toMatchObject({
      EventType: 'ExecutionStarted',
      FunctionName: PLACE_ORDER_ORCHESTRATION,
    });
    expect(withHistory.json.historyEvents).toContainEqual(
      expect.objectContaining({ EventType: 'TaskCompleted', FunctionName: 'validateOrder' }),
    );
  });

  it('raises an event: the approval lets the saga finish (200 with the full history)', async () => {
    const raised = await call('POST', links.sendEventPostUri.replace('{eventName}', APPROVAL_EVENT), {
      approved: true,
      approver: 'ops',
      decidedAt: new Date().toISOString(),
    });
    expect(raised.status).toBe(202);
    const done = await until(
      () => call<StatusPayload>('GET', `${links.statusQueryGetUri}&showHistory=true`),
      (status) => status.json.runtimeStatus === 'Completed',
    );
    expect(done.status).toBe(200);
    expect((done.json.output as OrderView).status).toBe('Completed');
    const types = done.json.historyEvents!.map((event) => event.EventType);
    expect(types).toContain('EventRaised');
    expect(types.at(-1)).toBe('ExecutionCompleted');
  });

  it('purges an instance: 200, then 404 for its status and a second purge', async () => {
    const purged = await call<{ instancesDeleted: number }>('DELETE', links.purgeHistoryDeleteUri);
    expect([purged.status, purged.json]).toEqual([200, { instancesDeleted: 1 }]);
    expect((await call('GET', links.statusQueryGetUri)).status).toBe(404);
    expect((await call('DELETE', links.purgeHistoryDeleteUri)).status).toBe(404);
  });

  it('terminates a running instance (202), and answers 410 once it is over', async () => {
    const id = newId('terminate');
    const started = await call<Record<string, string>>(
      'POST',
      `${webhooks()}/orchestrators/${PLACE_ORDER_ORCHESTRATION}/${id}`,
      largeOrderInput(id),
    );
    await until(() => call<StatusPayload>('GET', started.json.statusQueryGetUri), awaitingApproval);
    const terminate = started.json.terminatePostUri.replace('{text}', 'operator%20stop');
    expect((await call('POST', terminate)).status).toBe(202);
    // Accepted, not done: as on the extension, a terminate waits behind what is queued for the instance.
    const status = await until(
      () => call<StatusPayload>('GET', started.json.statusQueryGetUri),
      (answer) => answer.json.runtimeStatus === 'Terminated',
    );
    expect(status.json).toMatchObject({ runtimeStatus: 'Terminated', output: 'operator stop' });
    expect((await call('POST', terminate)).status).toBe(410);
    expect(
      (
        await call('POST', started.json.sendEventPostUri.replace('{eventName}', APPROVAL_EVENT), {
          approved: true,
          approver: 'late',
          decidedAt: new Date().toISOString(),
        })
      ).status,
    ).toBe(410);
  });

  it('lists instances, filtered by status', async () => {
    const list = await call<StatusPayload[]>('GET', `${webhooks()}/instances?runtimeStatus=Terminated`);
    expect(list.status).toBe(200);
    expect(list.json.length).toBeGreaterThan(0);
    expect(list.json.every((status) => status.runtimeStatus === 'Terminated')).toBe(true);
  });

  it('answers 404 for unknown instances and routes', async () => {
    expect((await call('GET', `${webhooks()}/instances/never-started`)).status).toBe(404);
    expect((await call('POST', `${webhooks()}/instances/never-started/raiseEvent/${APPROVAL_EVENT}`, {})).status).toBe(
      404,
    );
    expect((await call('POST', `${webhooks()}/instances/never-started/terminate`)).status).toBe(404);
    expect((await call('GET', `${webhooks()}/no-such-thing`)).status).toBe(404);
    expect((await call('GET', `${base}/durabletask/instances/never-started`)).status).toBe(404);
  });

  it('answers 400 for malformed calls, skips filters it cannot read, and 404 for wrong methods (as the extension)', async () => {
    const id = newId('bad');
    expect(
      (await call('POST', `${webhooks()}/orchestrators/${PLACE_ORDER_ORCHESTRATION}/${id}`, '{not json')).status,
    ).toBe(400);
    // The extension's HTTP start path does not check the name: 202, and the instance fails.
    expect((await call('POST', `${webhooks()}/orchestrators/noSuchOrchestrator/${id}-unknown`, {})).status).toBe(202);
    expect((await call('POST', `${webhooks()}/orchestrators/${PLACE_ORDER_ORCHESTRATION}/bad%01id`, {})).status).toBe(
      400,
    );
    expect((await call('GET', `${webhooks()}/instances?runtimeStatus=Sleeping`)).status).toBe(200);
    expect((await call('GET', `${webhooks()}/instances?createdTimeFrom=yesterday`)).status).toBe(200);
    expect((await call('DELETE', `${webhooks()}/instances?createdTimeFrom=yesterday`)).status).toBe(400);
    const started = await call<Record<string, string>>(
      'POST',
      `${webhooks()}/orchestrators/${PLACE_ORDER_ORCHESTRATION}/${id}`,
      largeOrderInput(id),
    );
    expect(
      (await call('POST', started.json.sendEventPostUri.replace('{eventName}', APPROVAL_EVENT), '{oops')).status,
    ).toBe(400);
    const wrongMethod = await call('GET', `${webhooks()}/orchestrators/${PLACE_ORDER_ORCHESTRATION}`);
    expect(wrongMethod.status).toBe(404);
    expect((await call('POST', started.json.terminatePostUri.replace('{text}', 'cleanup'))).status).toBe(202);
  });
});

describe("the SDK's own DurableClient against the host", () => {
  /** What the Functions host hands an HTTP function with a durableClient input, pointed at this host. */
  function sdkClient(): df.DurableClient {
    const input = df.input.durableClient();
    const context = new InvocationContext({
      functionName: 'e2eClient',
      invocationId: newId('invocation'),
      options: { trigger: { name: 'request', type: 'httpTrigger' }, extraInputs: [input], extraOutputs: [] },
    });
    context.extraInputs.set(input, durableClientData(base));
    return df.getClient(context);
  }

  const previousHostName = process.env.WEBSITE_HOSTNAME;
  // As under the Functions host: without it the SDK rewrites its links to http://localhost:7071.
  beforeAll(() => void (process.env.WEBSITE_HOSTNAME = new URL(base).host));
  afterAll(() => {
    if (previousHostName === undefined) delete process.env.WEBSITE_HOSTNAME;
    else process.env.WEBSITE_HOSTNAME = previousHostName;
  });

  it('starts, reads the status with history, raises an event and sees the outcome', async () => {
    const client = sdkClient();
    const id = await client.startNew(PLACE_ORDER_ORCHESTRATION, {
      instanceId: newId('sdk'),
      input: largeOrderInput('sdk-order'),
    });
    const waiting = await until(
      () => client.getStatus(id),
      (status) => (status.customStatus as OrderView | null)?.status === 'AwaitingApproval',
    );
    expect(waiting.runtimeStatus).toBe(df.OrchestrationRuntimeStatus.Running);
    await client.raiseEvent(id, APPROVAL_EVENT, {
      approved: false,
      approver: 'sdk',
      decidedAt: new Date().toISOString(),
    });
    const done = await until(
      () => client.getStatus(id, { showHistory: true }),
      (status) => status.runtimeStatus === df.OrchestrationRuntimeStatus.Completed,
    );
    expect((done.output as OrderView).status).toBe('Rejected');
    // The extension's payload names the events historyEvents; the SDK's status object reads `history`.
    expect(done.history).toBeUndefined();
  });

  it('terminates and purges, and its check-status response links work over plain HTTP', async () => {
    const client = sdkClient();
    const id = await client.startNew(PLACE_ORDER_ORCHESTRATION, {
      instanceId: newId('sdk-stop'),
      input: largeOrderInput('sdk-stop-order'),
    });
    const checkStatus = client.createCheckStatusResponse(
      new HttpRequest({ method: 'POST', url: `${base}/api/anything` }),
      id,
    );
    expect(checkStatus.status).toBe(202);
    const links = (await checkStatus.json()) as { statusQueryGetUri: string };
    expect(checkStatus.headers.get('location')).toBe(links.statusQueryGetUri);
    expect((await call('GET', links.statusQueryGetUri)).status).toBe(202);
    await until(
      () => client.getStatus(id),
      (status) => (status.customStatus as OrderView | null)?.status === 'AwaitingApproval',
    );
    await client.terminate(id, 'sdk says stop');
    await until(
      () => client.getStatus(id),
      (status) => status.runtimeStatus === df.OrchestrationRuntimeStatus.Terminated,
    );
    expect((await client.purgeInstanceHistory(id)).instancesDeleted).toBe(1);
    expect((await call('GET', links.statusQueryGetUri)).status).toBe(404);
  });
});

describe('bad input gets a clear 4xx and never takes the host down', () => {
  it('answers 404 for unknown routes and 405 (with Allow) for wrong methods', async () => {
    expect((await call('GET', `${base}/nothing-here`)).status).toBe(404);
    expect((await call('GET', `${base}/api/nothing-here`)).status).toBe(404);
    expect((await call('GET', `${base}/api/orders/a/b/c`)).status).toBe(404);
    const wrong = await call('DELETE', `${base}/api/orders`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'POST']);
    expect((await call('PUT', `${base}/api/catalog`, {})).status).toBe(405);
  });

  it('refuses a body declared larger than the limit with 413, without waiting for it', async () => {
    const exchange = await rawExchange(
      base,
      `POST /api/orders HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${200 * 1024 * 1024}\r\n\r\n{"orderId":`,
    );
    expect(exchange.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(exchange.response).toContain('larger than 1048576 bytes'); // the host's limit, not the app's
    expect(exchange.closed).toBe(true);
  });

  it('refuses `Expect: 100-continue` for too large a body, so it is never sent', async () => {
    const exchange = await rawExchange(
      base,
      `POST /api/orders HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: ${200 * 1024 * 1024}\r\n\r\n`,
    );
    expect(exchange.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(exchange.response).not.toContain('100 Continue');
  });

  it('stops reading a chunked body at the limit and answers 413', async () => {
    let sent = 0;
    const chunk = Buffer.from(`10000\r\n${'x'.repeat(0x10000)}\r\n`);
    const exchange = await rawExchange(
      base,
      'POST /api/orders HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      {
        keepWriting: () => ((sent += 1) <= 64 ? chunk : undefined), // 4 MB, four times the limit
        waitMs: 10_000,
      },
    );
    expect(exchange.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(exchange.response).toContain('larger than 1048576 bytes');
  });

  it('times out a client that sends its headers too slowly (408)', async () => {
    const exchange = await rawExchange(base, 'GET /api/catalog HTTP/1.1\r\nHost: test\r\n', { waitMs: 8000 });
    expect(exchange.response).toMatch(/^HTTP\/1\.1 408 /);
    expect(exchange.closed).toBe(true);
  });

  it('answers 400 to a request that is not HTTP, and builds links from its own address when the Host header is unusable', async () => {
    expect((await rawExchange(base, 'HELLO THERE\r\n\r\n')).response).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.stringify(order(newId('badhost')));
    const exchange = await rawExchange(
      base,
      `POST /api/orders HTTP/1.1\r\nHost: evil.example/<x>\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(exchange.response).toMatch(/^HTTP\/1\.1 202 /);
    expect(exchange.response).toContain(`"statusUrl":"${base}/api/orders/`);
  });

  it('answers CONNECT instead of dropping the connection', async () => {
    const exchange = await rawExchange(base, `CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n`);
    expect(exchange.response).toMatch(/^HTTP\/1\.1 405 /);
    expect(exchange.response).toContain('"message":"CONNECT is not supported');
  });

  it('takes only application/json as JSON, and names a field with a control character', async () => {
    const patch = await call('POST', `${base}/api/orders`, order(newId('patch')), {
      'content-type': 'application/merge-patch+json',
    });
    expect(patch.status).toBe(415);
    const nul = await call<{ errors: { path: string }[] }>('POST', `${base}/api/orders`, {
      ...order(newId('nul')),
      customerId: 'ada\u0000',
    });
    expect(nul.status).toBe(400);
    expect(nul.json.errors.map((error) => error.path)).toEqual(['customerId']);
  });

  it('is still up and serving after all of that', async () => {
    expect(isRunning(host.pid)).toBe(true);
    expect((await call('GET', `${base}/api/catalog`)).status).toBe(200);
    expect(host.output()).not.toMatch(/unhandled|uncaught/i);
  });
});

describe('configured dependencies', () => {
  it('uses COSMOS_ENDPOINT as it is, and starts only what is not configured', async () => {
    // The Cosmos server jest started for the whole run stands in for "your own endpoint".
    const endpoint = process.env.COSMOS_ENDPOINT!;
    resetCosmosClients();
    await provisionLocalDatabases();
    await seedDemoCatalog();
    const configured = await fixture!.start('configured', { COSMOS_ENDPOINT: endpoint });
    try {
      expect(configured.output()).toContain(`using COSMOS_ENDPOINT ${endpoint} as it is`);
      expect(configured.output()).not.toContain('local Cosmos server');
      const recorded = JSON.parse(readFileSync(stateFile(configured.dataDir), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(recorded).sort()).toEqual(['azurite', 'generation']);
      const catalog = await call<{ sku: string }[]>('GET', `${configured.baseUrl}/api/catalog`);
      expect(catalog.status).toBe(200);
      expect(catalog.json.map((item) => item.sku)).toContain('LAPTOP-PRO-16');
    } finally {
      expect(await configured.signal('SIGINT')).toBe(0);
    }
  });
});
