/**
 * The management API: through the SDK's own DurableClient (df.getClient in an HTTP function,
 * RPC routes) and through the documented webhook routes.
 */
import { startTestApp, type TestApp } from '../../local/engine/testing';
import './fixtures/management';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

/** Calls the DurableClient through the mgmt_client HTTP function. */
async function client<T = Record<string, unknown>>(op: string, call: Record<string, unknown>): Promise<T> {
  const response = await app.http('POST', `/api/mgmt/${op}`, { body: call });
  if (response.status !== 200) throw new Error(`${op}: ${response.status} ${response.text}`);
  return response.json as T;
}

let sequence = 0;
const uniqueId = (label: string) => `${label}-${++sequence}`;

describe('through the SDK DurableClient', () => {
  it('starts an instance, reads its status, raises the event it waits for; history comes from the webhook route', async () => {
    const id = uniqueId('sdk');
    expect(await client('start', { name: 'mgmt_wait', id, input: { order: 7 } })).toEqual({ id });
    await app.settle();

    const { status } = await client<{ status: Record<string, unknown> }>('status', {
      id,
      showHistory: true,
      showHistoryOutput: true,
    });
    expect(status).toMatchObject({
      name: 'mgmt_wait',
      instanceId: id,
      runtimeStatus: 'Running',
      input: { order: 7 },
      customStatus: { stage: 'waiting for Go' },
      output: null,
    });
    // The extension names the events `historyEvents`; the SDK's DurableOrchestrationStatus reads `history`.
    expect(status.history).toBeUndefined();

    expect(await client('raise', { id, event: 'Go', data: { go: true } })).toEqual({ raised: true });
    await app.settle();
    const done = (await client<{ status: Record<string, unknown> }>('status', { id })).status;
    expect(done).toMatchObject({
      runtimeStatus: 'Completed',
      customStatus: { stage: 'done' },
      output: { input: { order: 7 }, data: { go: true } },
    });
    const withHistory = (await (
      await fetch(`${app.baseUrl}/runtime/webhooks/durabletask/instances/${id}?showHistory=true&showHistoryOutput=true`)
    ).json()) as Record<string, unknown>;
    expect(withHistory.historyEvents).toEqual([
      expect.objectContaining({ EventType: 'ExecutionStarted', FunctionName: 'mgmt_wait', Input: { order: 7 } }),
      expect.objectContaining({ EventType: 'EventRaised', Name: 'Go', Input: { go: true } }),
      expect.objectContaining({
        EventType: 'ExecutionCompleted',
        OrchestrationStatus: 'Completed',
        Result: { input: { order: 7 }, data: { go: true } },
      }),
    ]);
  });

  it('terminates, and treats terminate or raise on a finished instance as done (410)', async () => {
    const id = (await client<{ id: string }>('start', { name: 'mgmt_wait' })).id;
    await app.settle();
    expect(await client('terminate', { id, reason: 'no longer needed' })).toEqual({ terminated: true });
    expect((await client<{ status: Record<string, unknown> }>('status', { id })).status).toMatchObject({
      runtimeStatus: 'Terminated',
      output: 'no longer needed',
    });
    expect(await client('terminate', { id })).toEqual({ terminated: true });
    expect(await client('raise', { id, event: 'Go' })).toEqual({ raised: true });
  });

  it('purges only a finished instance (412 for a running one); purging again deletes nothing; its status is then a 404', async () => {
    const id = uniqueId('purge');
    await client('start', { name: 'mgmt_wait', id });
    await app.settle();
    // HandleDeleteHistoryByIdRequestAsync: PreconditionFailed for an instance not in a terminal state.
    await expect(client('purge', { id })).rejects.toThrow(
      /unexpected status code: 412.*Only orchestrations in a terminal state can be purged.*has status Running/,
    );
    await client('terminate', { id, reason: 'done with it' });
    expect(await client('purge', { id })).toEqual({ purged: { instancesDeleted: 1 } });
    expect(await client('purge', { id })).toEqual({ purged: { instancesDeleted: 0 } });
    await expect(client('status', { id })).rejects.toThrow(/HTTP 404/);
  });

  it('reports unknown instances as the SDK expects', async () => {
    await expect(client('status', { id: 'nobody' })).rejects.toThrow(/HTTP 404 response/);
    await expect(client('raise', { id: 'nobody', event: 'Go' })).rejects.toThrow(/No instance with ID 'nobody' found/);
    await expect(client('terminate', { id: 'nobody' })).rejects.toThrow(/No instance with ID 'nobody' found/);
  });

  it('starts an unknown orchestrator (the HTTP start path does not check the name), which then fails', async () => {
    const { id } = await client<{ id: string }>('start', { name: 'no_such_orchestrator' });
    await app.settle();
    expect(app.engine.getStatus(id)).toMatchObject({
      runtimeStatus: 'Failed',
      output: expect.stringContaining("The function 'no_such_orchestrator' doesn't exist"),
    });
  });

  it('answers 409 to a start over a Pending or Running instance, and starts exactly one of concurrent duplicates', async () => {
    const id = uniqueId('dup');
    await client('start', { name: 'mgmt_wait', id });
    // HandleStartOrchestratorRequestAsync (3.19.0) answers OrchestrationAlreadyExistsException with a 409.
    await expect(client('start', { name: 'mgmt_wait', id })).rejects.toThrow(
      /unexpected status code: 409.*An Orchestration instance with the status (Pending|Running) already exists/,
    );
    await app.settle();
    await expect(client('start', { name: 'mgmt_wait', id })).rejects.toThrow(
      /unexpected status code: 409.*with the status Running already exists/,
    );

    const raceId = uniqueId('race');
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => client('start', { name: 'mgmt_wait', id: raceId })),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(
      results
        .filter((result) => result.status === 'rejected')
        .map((result) => String((result as PromiseRejectedResult).reason)),
    ).toEqual(Array(5).fill(expect.stringMatching(/409/)));
    await app.settle();
    expect(app.engine.listInstances().filter((status) => status.instanceId === raceId)).toHaveLength(1);
  });

  it('overwrites a Completed, Failed or Terminated instance on a start with its id (NonRunningStates)', async () => {
    const id = uniqueId('again');
    await client('start', { name: 'mgmt_wait', id, input: 'first' });
    await app.settle();
    await client('raise', { id, event: 'Go', data: 1 });
    await app.settle();
    expect(app.engine.getStatus(id)!.runtimeStatus).toBe('Completed');

    expect(await client('start', { name: 'mgmt_wait', id, input: 'second' })).toEqual({ id });
    await app.settle();
    expect(app.status(id)).toMatchObject({ runtimeStatus: 'Running', input: 'second', output: null });
    expect(app.status(id)!.history!.filter((event) => event.EventType === 0)).toHaveLength(1);

    await client('terminate', { id, reason: 'stop' });
    expect(await client('start', { name: 'mgmt_wait', id, input: 'third' })).toEqual({ id });
    await app.settle();
    expect(app.status(id)).toMatchObject({ runtimeStatus: 'Running', input: 'third' });
  });

  it('lists instances by runtime status', async () => {
    const id = (await client<{ id: string }>('start', { name: 'mgmt_wait' })).id;
    await app.settle();
    const { instances } = await client<{ instances: { instanceId: string; runtimeStatus: string }[] }>('list', {
      runtimeStatus: ['Running'],
    });
    expect(instances.map((instance) => instance.instanceId)).toContain(id);
    expect(instances.every((instance) => instance.runtimeStatus === 'Running')).toBe(true);
  });

  it('createCheckStatusResponse links to webhook URLs that work', async () => {
    const response = await app.http('POST', '/api/mgmt/check', { body: { name: 'mgmt_wait', input: 'linked' } });
    expect(response.status).toBe(202);
    const links = response.json as Record<string, string>;
    expect(response.headers.location).toBe(links.statusQueryGetUri);
    expect(
      links.statusQueryGetUri.startsWith(`${app.baseUrl}/runtime/webhooks/durabletask/instances/${links.id}`),
    ).toBe(true);
    await app.settle();

    expect((await fetch(links.statusQueryGetUri)).status).toBe(202);
    const raised = await fetch(links.sendEventPostUri.replace('{eventName}', 'Go'), {
      method: 'POST',
      body: '"now"',
      headers: { 'content-type': 'application/json' },
    });
    expect(raised.status).toBe(202);
    await app.settle();
    const final = await fetch(links.statusQueryGetUri);
    expect(final.status).toBe(200);
    expect(await final.json()).toMatchObject({ runtimeStatus: 'Completed', output: { input: 'linked', data: 'now' } });
  });
});

describe('through the webhook routes', () => {
  const webhooks = () => `${app.baseUrl}/runtime/webhooks/durabletask`;

  it('starts, reports, raises, terminates and purges with the documented codes', async () => {
    const started = await fetch(`${webhooks()}/orchestrators/mgmt_wait/hook-1`, {
      method: 'POST',
      body: JSON.stringify({ via: 'webhook' }),
    });
    expect(started.status).toBe(202);
    const payload = (await started.json()) as Record<string, string>;
    expect(payload.id).toBe('hook-1');
    expect(started.headers.get('location')).toBe(payload.statusQueryGetUri);
    expect(started.headers.get('retry-after')).toBe('10');
    // CreateCheckStatusResponseMessage lists no rewind link.
    expect(Object.keys(payload).sort()).toEqual([
      'id',
      'purgeHistoryDeleteUri',
      'restartPostUri',
      'resumePostUri',
      'sendEventPostUri',
      'statusQueryGetUri',
      'suspendPostUri',
      'terminatePostUri',
    ]);
    const duplicate = await fetch(`${webhooks()}/orchestrators/mgmt_wait/hook-1`, { method: 'POST' });
    expect(duplicate.status).toBe(409);
    expect(await duplicate.json()).toEqual({
      Message: expect.stringMatching(/^An Orchestration instance with the status (Pending|Running) already exists\.$/),
    });
    await app.settle();

    const runningUrl = `${webhooks()}/instances/hook-1?showHistory=true`;
    const running = await fetch(runningUrl);
    expect(running.status).toBe(202);
    // HandleGetStatusRequestAsync: Location is the URL asked, Retry-After 5 s.
    expect(running.headers.get('location')).toBe(runningUrl);
    expect(running.headers.get('retry-after')).toBe('5');
    expect(await running.json()).toMatchObject({
      instanceId: 'hook-1',
      runtimeStatus: 'Running',
      input: { via: 'webhook' },
      historyEvents: [{ EventType: 'ExecutionStarted' }],
    });
    const noInput = (await (await fetch(`${webhooks()}/instances/hook-1?showInput=false`)).json()) as Record<
      string,
      unknown
    >;
    expect(noInput.input).toBeNull();
    // Times as ToString("s") + "Z": whole seconds.
    expect(noInput.createdTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(noInput.lastUpdatedTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    expect((await fetch(`${webhooks()}/instances/hook-1`, { method: 'DELETE' })).status).toBe(412);
    expect((await fetch(`${webhooks()}/instances/hook-1/terminate?reason=by%20hand`, { method: 'POST' })).status).toBe(
      202,
    );
    expect((await fetch(`${webhooks()}/instances/hook-1/terminate`, { method: 'POST' })).status).toBe(410);
    expect((await fetch(`${webhooks()}/instances/hook-1/raiseEvent/Go`, { method: 'POST', body: '1' })).status).toBe(
      410,
    );
    const terminated = await fetch(`${webhooks()}/instances/hook-1`);
    expect(terminated.status).toBe(200);
    expect(await terminated.json()).toMatchObject({ runtimeStatus: 'Terminated', output: 'by hand' });

    expect((await fetch(`${webhooks()}/instances/hook-1`, { method: 'DELETE' })).status).toBe(200);
    expect((await fetch(`${webhooks()}/instances/hook-1`)).status).toBe(404);
    expect((await fetch(`${webhooks()}/instances/hook-1`, { method: 'DELETE' })).status).toBe(404);
  });

  it('answers bad requests as the extension does (a wrong method is a 404)', async () => {
    const id = (await (await fetch(`${webhooks()}/orchestrators/mgmt_wait`, { method: 'POST' })).json()) as {
      id: string;
    };
    const cases: [string, string, string | undefined, number][] = [
      ['POST', `/instances/${id.id}/raiseEvent/Go`, '{not json', 400],
      ['POST', '/orchestrators/mgmt_wait', '{not json', 400],
      ['POST', '/orchestrators/mgmt_wait/bad%23id', undefined, 400],
      ['PUT', `/instances/${id.id}`, undefined, 404],
      ['GET', '/orchestrators/mgmt_wait', undefined, 404],
      ['DELETE', '/instances', undefined, 400],
      ['POST', '/instances/nobody/raiseEvent/Go', '1', 404],
      ['POST', `/instances/${id.id}/raiseEvent/Go`, '1', 400], // sent as text/plain: only application/json is read
      ['GET', '/nothing/here', undefined, 404],
      ['POST', `/instances/${id.id}/suspend`, undefined, 501],
    ];
    for (const [method, path, body, expected] of cases) {
      const response = await fetch(`${webhooks()}${path}`, { method, body });
      expect(`${method} ${path} → ${response.status}`).toBe(`${method} ${path} → ${expected}`);
      expect(response.headers.get('content-type')).toMatch(/json/);
    }
  });

  it('lists instances with filters', async () => {
    const response = await fetch(`${webhooks()}/instances?runtimeStatus=Running,Pending&showInput=true`);
    expect(response.status).toBe(200);
    const list = (await response.json()) as { runtimeStatus: string }[];
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((status) => ['Running', 'Pending'].includes(status.runtimeStatus))).toBe(true);
    // A status it cannot read is skipped (Enum.TryParse), not refused.
    expect((await fetch(`${webhooks()}/instances?runtimeStatus=Sleeping`)).status).toBe(200);
  });
});

describe('purge with filters, as the Azure Storage provider does it', () => {
  const webhooks = () => `${app.baseUrl}/runtime/webhooks/durabletask`;

  it('purges only finished instances of the statuses asked; with none finished asked, every instance in the time range', async () => {
    await app.advanceTime(1000); // past every instance of the tests above
    const from = new Date(app.clock.now()).toISOString();
    const [done, running] = [uniqueId('purge-done'), uniqueId('purge-running')];
    app.engine.startNew('mgmt_wait', { instanceId: done });
    app.engine.startNew('mgmt_wait', { instanceId: running });
    await app.settle();
    app.engine.raiseEvent(done, 'Go');
    await app.settle();

    const asked = await fetch(`${webhooks()}/instances?createdTimeFrom=${from}&runtimeStatus=Completed,Running`, {
      method: 'DELETE',
    });
    expect([asked.status, await asked.json()]).toEqual([200, { instancesDeleted: 1 }]);
    expect(app.engine.getStatus(done)).toBeUndefined();
    expect(app.engine.getStatus(running)!.runtimeStatus).toBe('Running');

    // Running alone leaves no finished status, so the provider's filter is the time range only.
    const quirk = await fetch(`${webhooks()}/instances?createdTimeFrom=${from}&runtimeStatus=Running`, {
      method: 'DELETE',
    });
    expect([quirk.status, await quirk.json()]).toEqual([200, { instancesDeleted: 1 }]);
    expect(app.engine.getStatus(running)).toBeUndefined();
    expect((await fetch(`${webhooks()}/instances?createdTimeFrom=${from}`, { method: 'DELETE' })).status).toBe(404);
  });
});
