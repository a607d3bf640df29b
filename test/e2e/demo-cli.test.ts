/**
 * The demo and start:func commands as a user runs them, against a stand-in app: the demo sends
 * the function key, shows progress, prints its table and exits 1 when a scenario ends otherwise
 * than expected; start:func names what is missing when Core Tools are not installed.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { runScenarios } from '../../local/demo/runner';
import { DEMO_SCENARIOS } from '../../local/demo/scenarios';
import { FUNC_MISSING } from '../../scripts/start-func';
import { ROOT } from './support/host-process';

jest.setTimeout(60_000);

/** Runs a repo script as `npm run …` would, and collects what it prints. */
function runScript(
  script: string,
  args: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo', () => {
  let server: Server;
  let baseUrl: string;
  const seenHeaders: IncomingHttpHeaders[] = [];

  // Every order "completes" at once, so the scenarios that should end otherwise fail.
  beforeAll(async () => {
    server = createServer((req, res) => {
      seenHeaders.push(req.headers);
      const send = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const url = new URL(req.url!, 'http://stand-in');
      if (url.pathname === '/api/catalog') return send(200, [{ sku: 'LAPTOP-PRO-16', price: 1899, stock: 5 }]);
      if (req.method === 'POST' && url.pathname === '/api/orders') return send(202, {});
      const orderId = /^\/api\/orders\/([^/]+)$/.exec(url.pathname)?.[1];
      if (orderId)
        return send(200, {
          orderId,
          status: 'Completed',
          total: 1,
          currency: 'EUR',
          steps: [{ name: 'validate', status: 'succeeded', at: new Date().toISOString() }],
          compensations: [],
          warnings: [],
        });
      send(404, {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends the key as x-functions-key, prints the table, and exits 1 for the scenarios that ended otherwise', async () => {
    const result = await runScript('scripts/demo.ts', [baseUrl, '--key', 'secret-key']);
    expect(result.code).toBe(1);
    expect(seenHeaders.every((headers) => headers['x-functions-key'] === 'secret-key')).toBe(true);
    expect(result.stdout).toMatch(/^order +scenario +final status +steps +compensations +duration$/m);
    expect(result.stdout).toMatch(/\d+\/\d+ final/);
    const quick = DEMO_SCENARIOS.filter((scenario) => !scenario.slow);
    const wrong = quick.filter((scenario) => scenario.expected.status !== 'Completed' || scenario.expected.warning);
    expect(result.stdout).toContain(`${wrong.length} of ${quick.length} scenarios did not end as expected`);
    expect(result.stdout).toMatch(/demo-declined-\S+ +payment\.token tok_declined +✗ Completed \(expected Rejected\)/);
  });

  it('takes the key from FUNCTION_KEY too', async () => {
    seenHeaders.length = 0;
    await runScript('scripts/demo.ts', [baseUrl], { ...process.env, FUNCTION_KEY: 'env-key' });
    expect(seenHeaders.length).toBeGreaterThan(0);
    expect(seenHeaders.every((headers) => headers['x-functions-key'] === 'env-key')).toBe(true);
  });

  it('says how to start the app when nothing answers', async () => {
    const result = await runScript('scripts/demo.ts', ['http://127.0.0.1:9']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('npm start');
  });
});

/** What the stand-in app answers to one poll of an order. */
type Reply = { status: number; body: unknown; headers?: Record<string, string> };

/**
 * A stand-in app for the demo runner: an empty catalog, 202 to every order and retry, and each
 * GET of an order answered by `poll` (called with the poll's number, from 1). `requests` lists
 * what it was asked, order ids as {id}.
 */
async function standInApp(poll: (orderId: string, count: number) => Reply) {
  const requests: string[] = [];
  const posted: { path: string; headers: IncomingHttpHeaders }[] = [];
  let polls = 0;
  const server = createServer((req, res) => {
    const send = ({ status, body, headers = {} }: Reply) =>
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    const url = new URL(req.url!, 'http://stand-in');
    requests.push(`${req.method} ${url.pathname.replace(/demo-[^/]+/, '{id}')}`);
    if (url.pathname === '/api/catalog') return send({ status: 200, body: [] });
    if (req.method === 'POST') {
      posted.push({ path: url.pathname, headers: req.headers });
      return send({ status: 202, body: {} });
    }
    const orderId = /^\/api\/orders\/([^/]+)$/.exec(url.pathname)?.[1];
    if (!orderId) return send({ status: 404, body: {} });
    polls += 1;
    send(poll(orderId, polls));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    posted,
    polls: () => polls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const viewOf = (orderId: string, status: string, warnings: string[] = []) => ({
  orderId,
  status,
  total: 1,
  currency: 'EUR',
  steps: [],
  compensations: [],
  warnings,
});

describe('the demo runner', () => {
  it('follows a final status for as long as the app answers Retry-After, so a warning that comes after it counts', async () => {
    const bounce = DEMO_SCENARIOS.find((scenario) => scenario.key === 'bounce')!;
    // The saga has written Completed and is still at its last acts: the warning is yet to come.
    const app = await standInApp((orderId, count) =>
      count === 1
        ? { status: 200, body: viewOf(orderId, 'Completed'), headers: { 'retry-after': '1' } }
        : { status: 200, body: viewOf(orderId, 'Completed', ['confirm: the confirmation bounced']) },
    );
    try {
      const [result] = await runScenarios([bounce], { baseUrl: app.baseUrl, pollMs: 10 });
      expect(app.polls()).toBe(2);
      expect(result).toMatchObject({ status: 'Completed', ok: true });
      expect(result.view?.warnings).toEqual(['confirm: the confirmation bounced']);
    } finally {
      await app.close();
    }
  });
});

describe('the demo runner, when the app is briefly unavailable', () => {
  it('waits as a 503’s Retry-After says and asks again, instead of giving the order up', async () => {
    const visa = DEMO_SCENARIOS.find((scenario) => scenario.key === 'visa')!;
    // The client's own three tries all see the outage; the next poll finds the order.
    const app = await standInApp((orderId, count) =>
      count <= 3
        ? { status: 503, body: { message: 'the order cannot be read right now' }, headers: { 'retry-after': '1' } }
        : { status: 200, body: viewOf(orderId, 'Completed') },
    );
    try {
      const [result] = await runScenarios([visa], { baseUrl: app.baseUrl, pollMs: 10 });
      expect(app.polls()).toBe(4);
      expect(result).toMatchObject({ status: 'Completed', ok: true });
    } finally {
      await app.close();
    }
  });
});

describe('the demo runner, as the operator', () => {
  it('reports a repair that left the order CompensationFailed once GET stops answering Retry-After', async () => {
    const recovers = DEMO_SCENARIOS.find((scenario) => scenario.repair)!;
    // Second poll: the repair runs; third: it has ended, and the refund still failed.
    const app = await standInApp((orderId, count) => ({
      status: 200,
      body: viewOf(orderId, 'CompensationFailed'),
      ...(count === 2 ? { headers: { 'retry-after': '1' } } : {}),
    }));
    try {
      const [result] = await runScenarios([recovers], { baseUrl: app.baseUrl, pollMs: 10, timeoutMs: 30_000 });
      expect(app.requests.filter((request) => request.startsWith('POST') && request.endsWith('/retry'))).toHaveLength(
        1,
      );
      expect(app.polls()).toBe(3);
      expect(result).toMatchObject({
        status: 'CompensationFailed',
        ok: false,
        error: 'the repair left the order CompensationFailed',
      });
    } finally {
      await app.close();
    }
  });
});

describe('the demo runner, behind App Service Authentication', () => {
  it('decides and repairs with the bearer token it was given, in place of the development principals', async () => {
    const approved = DEMO_SCENARIOS.find((scenario) => scenario.decision === 'approve')!;
    const recovers = DEMO_SCENARIOS.find((scenario) => scenario.repair)!;
    const app = await standInApp((orderId, count) => {
      if (orderId.includes(approved.key))
        return { status: 200, body: viewOf(orderId, count <= 2 ? 'AwaitingApproval' : 'Completed') };
      return { status: 200, body: viewOf(orderId, count <= 3 ? 'CompensationFailed' : 'Compensated') };
    });
    try {
      await runScenarios([approved, recovers], {
        baseUrl: app.baseUrl,
        token: 'entra-token',
        pollMs: 10,
        timeoutMs: 30_000,
      });
      const privileged = app.posted.filter(({ path }) => path.endsWith('/approval') || path.endsWith('/retry'));
      expect(privileged.map(({ path }) => path.split('/').pop()).sort()).toEqual(['approval', 'retry']);
      for (const { headers } of privileged) {
        expect(headers.authorization).toBe('Bearer entra-token');
        expect(headers['x-ms-client-principal']).toBeUndefined();
      }
      // The order itself is the customer's call: no token on it.
      const placed = app.posted.filter(({ path }) => path === '/api/orders');
      expect(placed).toHaveLength(2);
      for (const { headers } of placed) expect(headers.authorization).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

describe('npm run start:func', () => {
  it('fails at once with a clear message when func is not on PATH', async () => {
    const result = await runScript('scripts/start-func.ts', [], { ...process.env, PATH: dirname(process.execPath) });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(FUNC_MISSING);
    expect(result.stderr).toContain('npm start');
  });
});
