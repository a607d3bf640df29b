/**
 * The pieces the offline host adds to the engine, in process: the file-backed store, a graceful
 * shutdown, host.json's concurrency limits, the clock that carries on across restarts, the data
 * folder's lock and the host's settings.
 */
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RealClock, VirtualClock } from '../../local/engine/clock';
import { ConcurrencyLimit } from '../../local/engine/concurrency-limit';
import { Engine } from '../../local/engine/engine';
import { FileInstanceStore, LOG_FILE } from '../../local/engine/file-store';
import { handleHostRequest } from '../../local/engine/host-handler';
import { EventType } from '../../local/engine/history';
import { loadRegistry, type FunctionRegistry } from '../../local/engine/registry';
import type { InstanceRecord } from '../../local/engine/store';
import { lockDataDir, lockFile } from '../../local/host/data-lock';
import { batchedStdout, createLogger } from '../../local/host/logger';
import { openDurableState } from '../../local/host/durable-state';
import { readHostJson, readSettings } from '../../local/host/settings';
import { closeGate, releaseGate, runs } from './fixtures/host-engine';

let folder: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'saga-host-engine-'));
});
afterEach(() => {
  releaseGate();
  rmSync(folder, { recursive: true, force: true });
});

const quietLog = { info: () => undefined, warn: () => undefined };

function record(instanceId: string, status: InstanceRecord['status'] = 'Running'): InstanceRecord {
  return {
    instanceId,
    executionId: 'e1',
    name: 'host_single',
    status,
    inputJson: '"x"',
    output: null,
    customStatus: null,
    createdTime: new Date(0).toISOString(),
    lastUpdatedTime: new Date(0).toISOString(),
    history: [],
    inbox: [],
    nextTaskId: 0,
    actionLog: [],
    timerIdsByAction: {},
    pendingActivities: {},
    pendingTimers: {},
    retryChains: {},
  };
}

describe('FileInstanceStore', () => {
  const logOf = () => join(folder, LOG_FILE);

  it('keeps records on disk: once flushed, a store opened later on the same folder sees them', async () => {
    const ids = ['plain', 'with:colon and space', 'ünïcode-✓', 'x'.repeat(256)];
    const store = new FileInstanceStore(folder);
    for (const id of ids) store.put(record(id));
    expect(store.delete('plain')).toBe(true);
    expect(store.delete('plain')).toBe(false);
    await store.flushed();

    const reopened = new FileInstanceStore(folder);
    expect(
      reopened
        .list()
        .map((stored) => stored.instanceId)
        .sort(),
    ).toEqual(ids.slice(1).sort());
    expect(reopened.get('ünïcode-✓')).toEqual(record('ünïcode-✓'));
    expect(readdirSync(folder)).toEqual([LOG_FILE]);
    await Promise.all([store.close(), reopened.close()]);
  });

  it('group commit: many changes in one turn of the event loop are one append and one flush', async () => {
    const store = new FileInstanceStore(folder);
    for (let index = 0; index < 50; index += 1)
      store.put(record(`batch-${index % 10}`, index < 40 ? 'Running' : 'Completed'));
    await store.flushed();
    // The ten instances' latest versions only: an older version still queued is replaced, not written.
    expect(store.stats).toEqual({ flushes: 1, records: 10, compactions: 0 });
    expect(readFileSync(logOf(), 'utf8').split('\n').filter(Boolean)).toHaveLength(10);
    expect(new FileInstanceStore(folder).list().every((stored) => stored.status === 'Completed')).toBe(true);
    await store.close();
  });

  it('lists by summary: only the records asked for are parsed', async () => {
    const store = new FileInstanceStore(folder);
    store.put(record('running'));
    store.put(record('done', 'Completed'));
    const parse = jest.spyOn(JSON, 'parse');
    expect(store.list((summary) => summary.status !== 'Completed').map((stored) => stored.instanceId)).toEqual([
      'running',
    ]);
    expect(parse).toHaveBeenCalledTimes(1);
    parse.mockRestore();
    await store.close();
  });

  it('hands out copies: a change is stored only by put', async () => {
    const store = new FileInstanceStore(folder);
    store.put(record('copy'));
    store.get('copy')!.status = 'Failed';
    expect(store.get('copy')!.status).toBe('Running');
    await store.close();
  });

  it('reads a growing history back as put: the same event objects put again, and new ones', async () => {
    const store = new FileInstanceStore(folder);
    const growing = record('growing');
    const at = new Date(1000).toISOString();
    growing.history.push({ EventType: EventType.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: at });
    store.put(growing);
    growing.history.push({
      EventType: EventType.TaskCompleted,
      EventId: -1,
      IsPlayed: false,
      Timestamp: at,
      TaskScheduledId: 0,
      Result: '{"ok":true}',
    });
    growing.status = 'Completed';
    store.put(growing);
    expect(store.get('growing')).toEqual(growing);
    await store.close();
    expect(new FileInstanceStore(folder).get('growing')).toEqual(growing);
  });

  const completed = (id: number) => ({
    EventType: EventType.TaskCompleted,
    EventId: -1,
    IsPlayed: false,
    Timestamp: new Date(id).toISOString(),
    TaskScheduledId: id,
    Result: `"result ${id}"`,
  });
  const lines = () => readFileSync(logOf(), 'utf8').split('\n').filter(Boolean);

  it('writes each history event once: a change is the other fields and the new events; a new execution or a re-created instance is whole', async () => {
    const store = new FileInstanceStore(folder);
    const growing = record('growing');
    growing.history.push(completed(1));
    store.put(growing);
    await store.flushed();
    growing.history.push(completed(2), completed(3));
    growing.customStatus = { step: 'ship' };
    store.put(growing);
    await store.flushed();
    expect(lines().map((line) => line[0])).toEqual(['P', 'A']);
    expect(JSON.parse(lines()[1].slice(1))).toEqual({
      instanceId: 'growing',
      from: 1,
      record: { ...growing, history: undefined },
      events: [completed(2), completed(3)],
    });
    expect(new FileInstanceStore(folder).get('growing')).toEqual(growing);

    const restarted = { ...record('growing'), executionId: 'e2', history: [completed(9)] };
    store.put(restarted);
    await store.flushed();
    expect(new FileInstanceStore(folder).get('growing')).toEqual(restarted);
    store.delete('growing');
    await store.flushed();
    store.put(record('growing'));
    await store.flushed();
    expect(lines().map((line) => line[0])).toEqual(['P', 'A', 'P', 'D', 'P']);
    expect(new FileInstanceStore(folder).get('growing')).toEqual(record('growing'));
    await store.close();
  });

  it('reads a record without its history for a status read; with it only when the history is asked for', async () => {
    const store = new FileInstanceStore(folder);
    const engine = new Engine({ registry: loadRegistry(), clock: new VirtualClock(), store });
    const growing = record('status-read');
    growing.history.push(completed(1), completed(2));
    store.put(growing);
    const get = jest.spyOn(store, 'get');
    expect(store.getWithoutHistory('status-read')).toEqual({ ...growing, history: undefined });
    expect(store.getWithoutHistory('status-read')).not.toHaveProperty('history');
    expect(engine.getStatus('status-read')).toMatchObject({ instanceId: 'status-read', runtimeStatus: 'Running' });
    expect(engine.getStatus('status-read')).not.toHaveProperty('history');
    expect(get).not.toHaveBeenCalled();
    expect(engine.getStatus('status-read', { showHistory: true })?.history).toEqual(growing.history);
    expect(get).toHaveBeenCalledTimes(1);
    expect(store.getWithoutHistory('missing')).toBeUndefined();
    engine.stop();
    await store.close();
  });

  it('sets aside a change whose record the log does not hold, and everything after it', async () => {
    const ghost = { instanceId: 'ghost', from: 0, record: { ...record('ghost'), history: undefined }, events: [] };
    writeFileSync(
      logOf(),
      `P${JSON.stringify(record('kept'))}\nA${JSON.stringify(ghost)}\nP${JSON.stringify(record('after'))}\n`,
    );
    const corrupt: string[] = [];
    const store = new FileInstanceStore(folder, { onCorrupt: (file) => corrupt.push(file) });
    expect(store.list().map((stored) => stored.instanceId)).toEqual(['kept']);
    expect(corrupt).toHaveLength(1);
    expect(readFileSync(corrupt[0], 'utf8')).toMatch(/^A\{"instanceId":"ghost"/);
    await store.close();
  });

  it('compacts to whole records, and writes later changes against the compacted log', async () => {
    const store = new FileInstanceStore(folder, { minCompactBytes: 1 });
    const busy = record('busy');
    busy.history.push(completed(1));
    for (let change = 0; change < 12; change += 1) {
      busy.customStatus = { change };
      store.put(busy);
      await store.flushed();
    }
    expect(store.stats.compactions).toBeGreaterThan(0);
    busy.history.push(completed(2));
    store.put(busy);
    await store.flushed();
    expect(lines()[0][0]).toBe('P');
    expect(lines().at(-1)![0]).toBe('A');
    expect(new FileInstanceStore(folder).get('busy')).toEqual(busy);
    await store.close();
  });

  it('closes its log even after a failed flush: close() reports the failure and leaves no descriptor open', async () => {
    const store = new FileInstanceStore(folder, { minCompactBytes: 1 });
    mkdirSync(`${logOf()}.next`); // the compaction after the first append cannot create its new log
    store.put(record('gone'));
    store.delete('gone');
    await store.flushed(); // the delete is appended; the compaction it calls for (nothing is live) fails
    store.put(record('next'));
    await expect(store.flushed()).rejects.toThrow('EISDIR');
    expect(descriptorsOf(logOf())).toBe(1);
    await expect(store.close()).rejects.toThrow('EISDIR');
    expect(descriptorsOf(logOf())).toBe(0);
  });

  it('cuts off a torn last line (a crash mid-append), and sets aside what follows a corrupt line', async () => {
    const store = new FileInstanceStore(folder);
    store.put(record('kept'));
    await store.close();
    const whole = readFileSync(logOf(), 'utf8');
    appendFileSync(logOf(), 'P{"instanceId":"torn","stat');
    const reopened = new FileInstanceStore(folder);
    expect(reopened.list().map((stored) => stored.instanceId)).toEqual(['kept']);
    expect(readFileSync(logOf(), 'utf8')).toBe(whole);

    appendFileSync(logOf(), `{not a record\nP${JSON.stringify(record('after'))}\n`);
    const corrupt: string[] = [];
    const again = new FileInstanceStore(folder, { onCorrupt: (file) => corrupt.push(file) });
    expect(again.list().map((stored) => stored.instanceId)).toEqual(['kept']);
    expect(corrupt).toHaveLength(1);
    expect(readFileSync(corrupt[0], 'utf8')).toMatch(/^\{not a record\n/);
    await Promise.all([reopened.close(), again.close()]);
  });

  it('carries records of the one-file-per-instance layout into the log; drops their temp files, sets aside corrupt ones', async () => {
    writeFileSync(join(folder, `${'a'.repeat(64)}.json`), JSON.stringify(record('old')));
    writeFileSync(join(folder, 'abc.json.123.tmp'), '{"half":');
    writeFileSync(join(folder, `${'0'.repeat(64)}.json`), '{not json');
    const corrupt: string[] = [];
    const store = new FileInstanceStore(folder, { onCorrupt: (file) => corrupt.push(file) });
    expect(store.list().map((stored) => stored.instanceId)).toEqual(['old']);
    expect(corrupt).toHaveLength(1);
    expect(readdirSync(folder).sort()).toEqual([`${'0'.repeat(64)}.json.corrupt`, LOG_FILE]);
    expect(new FileInstanceStore(folder).get('old')).toEqual(record('old'));
    await store.close();
  });

  it('acknowledges nothing that is not on disk: when the host has answered, the change survives a crash', async () => {
    const store = new FileInstanceStore(folder);
    const engine = new Engine({ registry: loadRegistry(), clock: new VirtualClock(), store });
    const request = (method: string, url: string, body?: unknown) =>
      handleHostRequest(
        { engine },
        {
          method,
          url,
          headers: {},
          body: Buffer.from(body === undefined ? '' : JSON.stringify(body)),
          origin: 'http://127.0.0.1:1',
        },
      );
    const started = await request('POST', '/runtime/webhooks/durabletask/orchestrators/host_single/ack-1', 'ack');
    expect(started.status).toBe(202);
    // No flushed() here: the answer itself is the promise. A store opened now sees what a crash would leave.
    expect(new FileInstanceStore(folder).get('ack-1')).toMatchObject({ instanceId: 'ack-1', name: 'host_single' });
    engine.stop();
    await store.close();
  });
});

describe('the engine over the file store', () => {
  it('a new engine over the same folder resumes the activity a crashed one left running', async () => {
    closeGate();
    const clock = new VirtualClock();
    const firstStore = new FileInstanceStore(folder);
    const first = new Engine({ registry: loadRegistry(), clock, store: firstStore });
    const id = first.startNew('host_single', { input: 'crash' });
    await until(() => runs.get('crash') === 1);
    await firstStore.flushed(); // what the first host had acknowledged (see the store's own tests)
    first.stop(); // a crash: the activity's result will go nowhere
    releaseGate();
    await first.idle();

    const secondStore = new FileInstanceStore(folder);
    const second = new Engine({ registry: loadRegistry(), clock, store: secondStore });
    second.recover();
    await second.settle();
    expect(second.getStatus(id)).toMatchObject({ runtimeStatus: 'Completed', output: 'done crash' });
    expect(runs.get('crash')).toBe(2);
    second.stop();
    await Promise.all([firstStore.close(), secondStore.close()]);
  });
});

describe('Engine.shutdown', () => {
  it('lets running activities finish and stores their results; queued ones never start; a new engine finishes the rest', async () => {
    closeGate();
    const store = new FileInstanceStore(folder);
    const clock = new VirtualClock();
    const first = new Engine({ registry: loadRegistry(), clock, store, maxConcurrentActivities: 1 });
    const keys = ['s-a', 's-b', 's-c'];
    const id = first.startNew('host_fan_out', { input: keys });
    await until(() => keys.some((key) => runs.get(key) === 1));
    const stopping = first.shutdown(10_000);
    releaseGate();
    expect(await stopping).toBe(true);
    expect(keys.map((key) => runs.get(key) ?? 0).sort()).toEqual([0, 0, 1]);
    const stored = store.get(id)!;
    expect(stored.inbox.map((event) => event.EventType)).toContain(EventType.TaskCompleted);
    expect(Object.keys(stored.pendingActivities)).toHaveLength(2);
    await store.flushed();

    const secondStore = new FileInstanceStore(folder);
    const second = new Engine({ registry: loadRegistry(), clock, store: secondStore });
    second.recover();
    await second.settle();
    expect(second.getStatus(id)!.output).toEqual(keys.map((key) => `done ${key}`));
    expect(keys.map((key) => runs.get(key))).toEqual([1, 1, 1]);
    second.stop();
    await Promise.all([store.close(), secondStore.close()]);
  });

  it('gives up after the grace period, leaving the unfinished activity pending for the next engine', async () => {
    closeGate();
    const store = new FileInstanceStore(folder);
    const engine = new Engine({ registry: loadRegistry(), clock: new VirtualClock(), store });
    const id = engine.startNew('host_single', { input: 'slow-stop' });
    await until(() => runs.get('slow-stop') === 1);
    expect(await engine.shutdown(50)).toBe(false);
    expect(Object.values(store.get(id)!.pendingActivities).map((pending) => pending.activityName)).toEqual([
      'host_gated',
    ]);
    await store.close();
  });
});

describe('maxConcurrentOrchestrations (host.json maxConcurrentOrchestratorFunctions)', () => {
  /** The registry with every orchestrator episode made slow and counted. */
  function countingRegistry(): { registry: FunctionRegistry; peak: () => number } {
    const registry = loadRegistry();
    let active = 0;
    let peak = 0;
    for (const [name, fn] of registry.orchestrations) {
      registry.orchestrations.set(name, {
        ...fn,
        handler: async (input, context) => {
          peak = Math.max(peak, (active += 1));
          await new Promise((resolve) => setTimeout(resolve, 5));
          try {
            return await fn.handler(input, context);
          } finally {
            active -= 1;
          }
        },
      });
    }
    return { registry, peak: () => peak };
  }

  /** The most episodes that ran at once while five instances ran to completion. */
  async function peakEpisodes(limit: number | undefined): Promise<number> {
    const { registry, peak } = countingRegistry();
    const engine = new Engine({ registry, clock: new VirtualClock(), maxConcurrentOrchestrations: limit });
    const ids = Array.from({ length: 5 }, (_, index) =>
      engine.startNew('host_single', { input: `limit-${limit}-${index}` }),
    );
    await engine.settle();
    expect(ids.map((id) => engine.getStatus(id)!.runtimeStatus)).toEqual(ids.map(() => 'Completed'));
    engine.stop();
    return peak();
  }

  it('with a limit of 1, one episode runs at a time', async () => {
    expect(await peakEpisodes(1)).toBe(1);
  });

  it('without a limit, episodes of different instances overlap', async () => {
    expect(await peakEpisodes(undefined)).toBeGreaterThan(1);
  });

  it('ConcurrencyLimit hands slots out in arrival order, and a release counts once', async () => {
    const limit = new ConcurrencyLimit(1);
    const order: string[] = [];
    const first = await limit.acquire();
    const waiting = ['b', 'c'].map(async (name) => {
      const release = await limit.acquire();
      order.push(name);
      return release;
    });
    first();
    first(); // harmless
    const second = await waiting[0];
    expect(order).toEqual(['b']);
    second();
    (await waiting[1])();
    expect(order).toEqual(['b', 'c']);
    expect(() => new ConcurrencyLimit(0)).toThrow(RangeError);
  });
});

describe('time across restarts', () => {
  it('RealClock continues from an anchor, at its speed', () => {
    const clock = new RealClock({ speed: 60, anchor: { wallMs: Date.now() - 1000, clockMs: 1_000_000 } });
    expect(clock.now()).toBeGreaterThanOrEqual(1_000_000 + 60_000);
    expect(clock.now()).toBeLessThan(1_000_000 + 70_000);
    clock.dispose();
  });

  it('a sped-up clock never runs back after a restart, even at a lower speed', async () => {
    const first = openDurableState({
      dataDir: folder,
      dataIdentity: 'data-1',
      timeScale: 10_000,
      fsync: false,
      log: quietLog,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = first.clock.now();
    expect(before - Date.now()).toBeGreaterThan(100_000); // 20 ms at ×10,000
    const second = openDurableState({
      dataDir: folder,
      dataIdentity: 'data-1',
      timeScale: 1,
      fsync: false,
      log: quietLog,
    });
    expect(second.clock.now()).toBeGreaterThanOrEqual(before);
  });

  it('keeps the durable store for the same data, and moves it aside (naming it) for other data', async () => {
    const first = openDurableState({
      dataDir: folder,
      dataIdentity: 'data-1',
      timeScale: 1,
      fsync: true,
      log: quietLog,
    });
    first.store.put(record('survivor'));
    await first.store.close();
    expect(
      openDurableState({ dataDir: folder, dataIdentity: 'data-1', timeScale: 1, fsync: true, log: quietLog }).store.get(
        'survivor',
      ),
    ).toBeDefined();
    const warnings: string[] = [];
    const other = openDurableState({
      dataDir: folder,
      dataIdentity: 'data-2',
      timeScale: 1,
      fsync: true,
      log: { ...quietLog, warn: (message) => warnings.push(message) },
    });
    expect(other.emptied).toBe(true);
    expect(other.store.list()).toEqual([]);
    expect(warnings.join()).toContain('starting from an empty durable store');
    // Not deleted: the old records are where the log says they are.
    expect(other.setAside).toMatch(/durable\.set-aside-/);
    expect(warnings.join()).toContain(other.setAside);
    expect(new FileInstanceStore(join(other.setAside!, 'instances'), { fsync: false }).get('survivor')).toBeDefined();
  });
});

describe('the data folder lock', () => {
  it('refuses a folder a live host holds, and takes over one a killed host left', async () => {
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(lockFile(folder), `${sleeper.pid}\n`);
      expect(() => lockDataDir(folder)).toThrow(`in use by another host (pid ${sleeper.pid})`);
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => sleeper.once('exit', resolve));
    }
    const release = lockDataDir(folder);
    expect(existsSync(lockFile(folder))).toBe(true);
    release();
    expect(existsSync(lockFile(folder))).toBe(false);
  });
});

describe('settings', () => {
  it("reads host.json's durable concurrency limits, route prefix, hub name and queue retry settings", () => {
    expect(readHostJson(join(__dirname, '../../host.json'), { TASK_HUB_NAME: 'Hub1' })).toEqual({
      maxConcurrentActivityFunctions: 10,
      maxConcurrentOrchestratorFunctions: 10,
      routePrefix: 'api',
      hubName: 'Hub1',
      durableTask: { hubName: 'Hub1', maxConcurrentActivityFunctions: 10, maxConcurrentOrchestratorFunctions: 10 },
      maxDequeueCount: 5,
      queueRetryDelaySeconds: 2,
    });
    expect(readHostJson(join(__dirname, '../../host.json'), {}).hubName).toBeUndefined();
  });

  it('defaults to port 7071 and the .data folder, and names a bad value', () => {
    const settings = readSettings({});
    expect(settings).toMatchObject({ port: 7071, timeScale: 1, fsync: true, backend: 'engine' });
    expect(readSettings({ DURABLE_BACKEND: 'extension' }).backend).toBe('extension');
    expect(() => readSettings({ DURABLE_BACKEND: 'dapr' })).toThrow(
      'DURABLE_BACKEND must be "engine" (the default) or "extension"; got "dapr"',
    );
    expect(settings.dataDir).toMatch(/\.data$/);
    expect(settings.appEntry).toMatch(/dist[/\\]main\.js$/);
    expect(() => readSettings({ PORT: 'seventy' })).toThrow('PORT must be a port number');
    expect(() => readSettings({ DURABLE_TIME_SCALE: '0' })).toThrow('DURABLE_TIME_SCALE must be a positive number');
    expect(() => readSettings({ LOG_LEVEL: 'loud' })).toThrow('LOG_LEVEL must be one of');
  });
});

describe('the host log', () => {
  it('writes the lines of one turn of the event loop in one write, in order, and what is held at exit', async () => {
    const writes: string[] = [];
    const stream = { write: (text: string) => writes.push(text) } as unknown as NodeJS.WritableStream;
    const exitListeners = process.listenerCount('exit');
    const log = createLogger('information', batchedStdout(stream));
    log.info('one');
    log.app('debug', 'fn', 'below the level');
    log.app('warning', 'fn', 'two', { n: 2 });
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^\[.+\] information host: one\n\[.+\] warning {5}fn: two \{ n: 2 \}\n$/);
    log.error('three');
    const atExit = process.listeners('exit').slice(exitListeners);
    expect(atExit).toHaveLength(1);
    (atExit[0] as () => void)();
    expect(writes).toHaveLength(2);
    expect(writes[1]).toMatch(/error {7}host: three\n$/);
    process.removeListener('exit', atExit[0]);
  });
});

/** How many of this process's open descriptors are `file` (Linux: /proc/self/fd). */
function descriptorsOf(file: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(join('/proc/self/fd', fd)) === realpathSync(file);
    } catch {
      return false; // the descriptor readdir itself used, closed by now
    }
  }).length;
}

async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
