/**
 * The durable client answered in process (local/engine/in-process-client.ts): an HTTP function's
 * DurableClient calls never reach the loopback port, and what the SDK gets back is what it gets
 * over the port: the same scenario runs on two test apps, one per path, on the same virtual time.
 */
import type { AxiosError, AxiosResponse, AxiosStatic } from 'axios';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { durableFunctionsAxios } from '../../local/engine/in-process-client';
import { startTestApp, type TestApp } from '../../local/engine/testing';
import { appAxios } from '../../local/host/load-app';
import './fixtures/management';

const START = Date.parse('2026-03-01T10:00:00Z');
const axios: AxiosStatic = durableFunctionsAxios(__dirname);
const adapterBefore = axios.defaults.adapter;

let inProcess: TestApp;
let loopback: TestApp;
beforeAll(async () => {
  inProcess = await startTestApp({ startTime: START });
  loopback = await startTestApp({ startTime: START, durableClient: 'loopback' });
});
afterAll(async () => {
  await loopback?.stop();
  await inProcess?.stop();
});

/** Both apps' answers with each one's origin replaced, so they can be compared. */
const same = (app: TestApp, value: unknown) => JSON.parse(JSON.stringify(value).replaceAll(app.baseUrl, 'ORIGIN'));

/** One DurableClient call made by the mgmt_client HTTP function: its status and JSON (the SDK's error as `error`). */
async function client(app: TestApp, op: string, call: Record<string, unknown>) {
  const response = await app.http('POST', `/api/mgmt/${op}`, { body: call });
  return same(app, { status: response.status, json: response.json });
}

/** The SDK's own axios setup (DurableClient's constructor), sending one raw request to the app's rpcBaseUrl. */
async function raw(
  app: TestApp,
  method: string,
  path: string,
  data?: string | Buffer,
  headers?: Record<string, string>,
) {
  const sdkAxios = axios.create({
    validateStatus: (status) => status < 600,
    headers: { post: { 'Content-Type': 'application/json' } },
    maxContentLength: Infinity,
  });
  const response = await sdkAxios.request({ method, url: `${app.clientData.rpcBaseUrl}${path}`, data, headers });
  return same(app, seen(response));
}

/** What the SDK reads of a response: status, the parsed body, and the headers that carry meaning. */
function seen(response: AxiosResponse) {
  const pick = ['content-type', 'content-length', 'location', 'retry-after'];
  return {
    status: response.status,
    statusText: response.statusText,
    data: response.data as unknown,
    headers: Object.fromEntries(
      pick.flatMap((name) => (response.headers[name] ? [[name, response.headers[name]]] : [])),
    ),
  };
}

/** The same steps on both apps, each step's answers side by side. */
async function onBoth<T>(steps: (app: TestApp) => Promise<T>): Promise<[T, T]> {
  return [await steps(inProcess), await steps(loopback)];
}

describe("an HTTP function's durable client", () => {
  it('reaches the engine in process: the loopback port sees none of its calls (it does see them with durableClient: loopback)', async () => {
    const before = [inProcess.loopbackRequests(), loopback.loopbackRequests()];
    const [inside, over] = await onBoth(async (app) => {
      // Settled between calls: how far the engine got before a read depends on the path's latency.
      const started = await client(app, 'start', { name: 'mgmt_wait', id: 'count-1', input: { n: 1 } });
      await app.settle();
      const status = await client(app, 'status', { id: 'count-1' });
      const raised = await client(app, 'raise', { id: 'count-1', event: 'Go', data: 'go' });
      await app.settle();
      return [started, status, raised, await client(app, 'terminate', { id: 'count-1', reason: 'counted' })];
    });
    expect(inside).toEqual(over);
    expect(inside[0]).toEqual({ status: 200, json: { id: 'count-1' } });
    expect(inProcess.loopbackRequests() - before[0]).toBe(0);
    expect(loopback.loopbackRequests() - before[1]).toBe(4);
  });

  it('gets the same answers as over the port: start (and a 409), status while running and when done, events, terminate, purge, list', async () => {
    const [inside, over] = await onBoth(async (app) => {
      const steps: unknown[] = [];
      steps.push(await client(app, 'start', { name: 'mgmt_wait', id: 'same-1', input: { order: 7 } }));
      await app.settle();
      steps.push(await client(app, 'status', { id: 'same-1', showHistory: true, showHistoryOutput: true }));
      steps.push(await client(app, 'start', { name: 'mgmt_wait', id: 'same-1' }));
      steps.push(await client(app, 'raise', { id: 'same-1', event: 'Go', data: { go: true } }));
      await app.settle();
      steps.push(await client(app, 'status', { id: 'same-1' }));
      steps.push(await client(app, 'raise', { id: 'same-1', event: 'Go' }));
      steps.push(await client(app, 'terminate', { id: 'same-1' }));
      steps.push(await client(app, 'list', { runtimeStatus: ['Completed'] }));
      steps.push(await client(app, 'purge', { id: 'same-1' }));
      steps.push(await client(app, 'purge', { id: 'same-1' }));
      return steps;
    });
    expect(inside).toEqual(over);
    expect(inside).toMatchObject([
      { status: 200, json: { id: 'same-1' } },
      { status: 200, json: { status: { runtimeStatus: 'Running', input: { order: 7 } } } },
      { status: 500, json: { error: expect.stringMatching(/unexpected status code: 409/) } },
      { status: 200, json: { raised: true } },
      { status: 200, json: { status: { runtimeStatus: 'Completed', output: { data: { go: true } } } } },
      // 410 for a finished instance: the SDK treats it as done.
      { status: 200, json: { raised: true } },
      { status: 200, json: { terminated: true } },
      { status: 200, json: { instances: [{ instanceId: 'count-1' }, { instanceId: 'same-1' }] } },
      { status: 200, json: { purged: { instancesDeleted: 1 } } },
      { status: 200, json: { purged: { instancesDeleted: 0 } } },
    ]);
  });

  it('gets the same errors for unknown instances: a 404 from getStatus, raiseEvent and terminate', async () => {
    const [inside, over] = await onBoth(async (app) => [
      await client(app, 'status', { id: 'nobody' }),
      await client(app, 'raise', { id: 'nobody', event: 'Go' }),
      await client(app, 'terminate', { id: 'nobody' }),
    ]);
    expect(inside).toEqual(over);
    expect(inside).toEqual([
      { status: 500, json: { error: expect.stringMatching(/HTTP 404 response.*nobody/) } },
      { status: 500, json: { error: "No instance with ID 'nobody' found." } },
      { status: 500, json: { error: "No instance with ID 'nobody' found." } },
    ]);
  });
});

describe("what the SDK's axios gets back, request by request", () => {
  it('the same status, parsed body and headers as over the port (202 with Location on a start, 400, 404, 410, 501)', async () => {
    const [inside, over] = await onBoth(async (app) => {
      const steps: unknown[] = [];
      steps.push(await raw(app, 'post', 'orchestrators/mgmt_wait/raw-1', JSON.stringify({ via: 'raw' })));
      await app.settle();
      steps.push(await raw(app, 'get', 'instances/raw-1'));
      steps.push(await raw(app, 'get', 'instances/raw-1?showHistory=true'));
      // As bytes: axios JSON-encodes a string body that does not parse, so it would arrive valid.
      steps.push(await raw(app, 'post', 'orchestrators/mgmt_wait/raw-2', Buffer.from('{not json')));
      steps.push(await raw(app, 'post', 'instances/raw-1/raiseEvent/Go', 'plain', { 'Content-Type': 'text/plain' }));
      steps.push(await raw(app, 'post', 'instances/raw-1/raiseEvent/Go', '"go"'));
      await app.settle();
      steps.push(await raw(app, 'get', 'instances/raw-1'));
      steps.push(await raw(app, 'post', 'instances/raw-1/raiseEvent/Go', '"late"'));
      steps.push(await raw(app, 'get', 'instances/nobody'));
      steps.push(await raw(app, 'put', 'instances/raw-1'));
      steps.push(await raw(app, 'post', 'instances/raw-1/suspend?reason=x'));
      return steps;
    });
    expect(inside).toEqual(over);
    const json = 'application/json; charset=utf-8';
    expect(inside).toMatchObject([
      {
        status: 202,
        statusText: 'Accepted',
        data: { id: 'raw-1' },
        headers: {
          'content-type': json,
          location: 'ORIGIN/runtime/webhooks/durabletask/instances/raw-1?taskHub=LocalTaskHub&connection=Storage',
          'retry-after': '10',
        },
      },
      { status: 202, data: { runtimeStatus: 'Running' }, headers: { location: 'ORIGIN/durabletask/instances/raw-1' } },
      { status: 202, data: { runtimeStatus: 'Running', historyEvents: expect.any(Array) } },
      { status: 400, data: { Message: 'Invalid JSON content' } },
      { status: 400, data: { Message: 'Only application/json request content is supported' } },
      { status: 202, data: '', headers: { 'content-length': '0' } },
      { status: 200, statusText: 'OK', data: { runtimeStatus: 'Completed', output: { data: 'go' } } },
      { status: 410, data: { message: "Instance 'raw-1' is not running" } },
      { status: 404, statusText: 'Not Found', data: { message: "No instance with id 'nobody' was found" } },
      { status: 404, data: { message: expect.stringMatching(/PUT is not served/) } },
      { status: 501 },
    ]);
  });

  it("applies the config's validateStatus: a refused status is the same AxiosError, with the parsed body", async () => {
    const [inside, over] = await onBoth(async (app) => {
      const error = (await axios
        .get(`${app.clientData.rpcBaseUrl}instances/nobody`)
        .catch((e: unknown) => e)) as AxiosError;
      return same(app, {
        name: error.name,
        message: error.message,
        code: error.code,
        status: error.response?.status,
        data: error.response?.data,
      });
    });
    expect(inside).toEqual(over);
    expect(inside).toEqual({
      name: 'AxiosError',
      message: 'Request failed with status code 404',
      code: 'ERR_BAD_REQUEST',
      status: 404,
      data: { message: "No instance with id 'nobody' was found" },
    });
  });

  it('sends anything outside rpcBaseUrl over the network, as before', async () => {
    const before = inProcess.loopbackRequests();
    const response = await axios.get(`${inProcess.baseUrl}/runtime/webhooks/durabletask/instances/nobody`, {
      validateStatus: () => true,
    });
    expect(response.status).toBe(404);
    expect(inProcess.loopbackRequests() - before).toBe(1);
  });

  it('gives the adapter back when the last app stops', async () => {
    const extra = await startTestApp({ startTime: START });
    expect(axios.defaults.adapter).not.toBe(adapterBefore);
    await extra.stop();
    // inProcess still runs: its calls are still answered in process.
    expect(axios.defaults.adapter).not.toBe(adapterBefore);
    await inProcess.stop();
    expect(axios.defaults.adapter).toBe(adapterBefore);
    inProcess = await startTestApp({ startTime: START });
    expect(axios.defaults.adapter).not.toBe(adapterBefore);
  });
});

describe("the offline host's choice of axios copy (appAxios)", () => {
  it("takes the bundle's own copy, vendor/axios.js beside its entry (host-api.test.ts checks the bundle's calls then stay in process)", () => {
    const dist = mkdtempSync(join(tmpdir(), 'app-axios-'));
    try {
      mkdirSync(join(dist, 'vendor'));
      writeFileSync(join(dist, 'main.js'), '');
      writeFileSync(join(dist, 'vendor', 'axios.js'), 'module.exports = { copy: "vendored" };');
      expect(appAxios(join(dist, 'main.js'))).toEqual({ copy: 'vendored' });
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });

  it('takes the copy durable-functions loads for an app run from source', () => {
    expect(appAxios(resolve(__dirname, '../../src/index.ts'))).toBe(axios);
  });
});
