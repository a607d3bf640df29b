/** The offline host's worker thread: the app's activities and orchestrations run there, as they would on the main thread. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { InvocationContext } from '@azure/functions';
import { RealClock } from '../../local/engine/clock';
import { Engine } from '../../local/engine/engine';
import { loadRegistry, type FunctionRegistry } from '../../local/engine/registry';
import { WorkerThread } from '../../local/host/worker-thread';
import type { HostLogger } from '../../local/host/logger';
import './fixtures/worker-thread';

const FIXTURE = join(__dirname, 'fixtures', 'worker-thread.ts');

let registry: FunctionRegistry;
let thread: WorkerThread;
let logged: [string, string, string][];
let lost: Error[];
const log: HostLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  app: (level, functionName, text) => logged.push([level, functionName, String(text)]),
};

beforeEach(() => {
  registry = loadRegistry();
  logged = [];
  lost = [];
  thread = new WorkerThread(FIXTURE, log, (error) => lost.push(error));
  thread.adopt(registry);
});

afterEach(async () => {
  await thread.close();
});

const run = (name: string, input?: unknown): Promise<unknown> =>
  Promise.resolve(registry.activities.get(name)!.handler(input, new InvocationContext({ functionName: name })));

describe('WorkerThread', () => {
  it('runs an activity on another thread, with its input and result as JSON, and its log lines', async () => {
    const result = (await run('thread_echo', { orderId: 'o-1', lines: [1, 2] })) as { threadId: number };
    expect(result).toEqual({
      input: { orderId: 'o-1', lines: [1, 2] },
      threadId: expect.any(Number),
      at: new Date(0).toISOString(),
    });
    expect(result.threadId).not.toBe(threadId);
    expect(logged).toEqual([
      ['information', 'thread_echo', "echoing { orderId: 'o-1', lines: [ 1, 2 ] }"],
      ['warning', 'thread_echo', 'and warning'],
    ]);
  });

  it('runs an orchestration there too: the engine drives its episodes and records what they decided', async () => {
    const engine = new Engine({ registry, clock: new RealClock(), log: log.app });
    const id = engine.startNew('thread_calls', { input: 'via the engine' });
    const done = await engine.waitFor(
      id,
      (status) => status.runtimeStatus !== 'Pending' && status.runtimeStatus !== 'Running',
    );
    expect(done).toMatchObject({ runtimeStatus: 'Completed', output: { echoed: { input: 'via the engine' } } });
    const output = done.output as { echoed: { threadId: number }; orchestratorThread: number };
    expect(output.orchestratorThread).not.toBe(threadId);
    expect(output.echoed.threadId).toBe(output.orchestratorThread);
    expect(logged).toContainEqual(['information', 'thread_calls', 'orchestrated']);
    engine.stop();
  });

  it('runs many at once on the one thread', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, index) => run('thread_echo', index)));
    expect(results.map((result) => (result as { input: number }).input)).toEqual([...Array(20).keys()]);
    expect(new Set(results.map((result) => (result as { threadId: number }).threadId)).size).toBe(1);
  });

  it('fails as the activity failed: the error with its message and stack, or the value thrown', async () => {
    const error = (await run('thread_fails').catch((thrown: unknown) => thrown)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('boom on the thread');
    expect(error.stack).toMatch(/boom on the thread[\s\S]*fixtures[/\\]worker-thread\.ts/);
    await expect(run('thread_throws_text')).rejects.toBe('plain text');
  });

  it('fails what ran when the thread stops, and starts a new thread for the next activity', async () => {
    await run('thread_echo', 'first');
    await expect(run('thread_exits')).rejects.toThrow('the worker thread stopped (exit code 3)');
    expect(lost.map((error) => error.message)).toEqual(['the worker thread stopped (exit code 3)']);
    expect(await run('thread_echo', 'again')).toMatchObject({ input: 'again' });
  });

  it('logs an unhandled rejection on the thread, as the main thread does, and goes on', async () => {
    await run('thread_rejects_later');
    await until(() => logged.some(([level]) => level === 'error'));
    expect(logged).toContainEqual([
      'error',
      'worker thread',
      expect.stringMatching(/^unhandled promise rejection: Error: nobody waited\n\s+at /),
    ]);
    expect(await run('thread_echo', 'still here')).toMatchObject({ input: 'still here' });
    expect(lost).toEqual([]);
  });

  it('starts nothing once closed, and a close is no loss', async () => {
    await run('thread_echo');
    await thread.close();
    expect(lost).toEqual([]);
    await expect(run('thread_echo', 'late')).rejects.toThrow('the host is stopping: nothing new starts');
  });

  it("starts under the host's own Node options, a process-wide one among them", () => {
    const host = spawnSync(
      process.execPath,
      ['--max-old-space-size=256', '--import', 'tsx', join(__dirname, 'fixtures', 'worker-thread-host.ts')],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(host.stderr).toBe('');
    expect(JSON.parse(host.stdout)).toMatchObject({ input: 'from a host process', threadId: expect.any(Number) });
    expect(host.status).toBe(0);
  });

  it('says so when the thread cannot load the app', async () => {
    const broken = new WorkerThread(join(__dirname, 'fixtures', 'no-such-app.js'), log);
    broken.adopt(registry);
    await expect(run('thread_echo')).rejects.toThrow(/could not load the app: .*no-such-app\.js/s);
    await broken.close();
  });

  it('a thread that cannot load the app is lost, even one the app left running: no call fails there as the activity', async () => {
    const threadsBefore = threads();
    const broken = new WorkerThread(join(__dirname, 'fixtures', 'worker-thread-broken.ts'), log, (error) =>
      lost.push(error),
    );
    broken.adopt(registry);
    await expect(run('thread_echo')).rejects.toThrow(/could not load the app: .*cannot load on a worker thread/s);
    // The host stops as in a crash (the next start tries again), rather than fail activity after activity.
    expect(lost.map((error) => error.message)).toEqual([
      expect.stringMatching(/could not load the app: .*cannot load on a worker thread/s),
    ]);
    await broken.close();
    expect(threads()).toBe(threadsBefore);
    expect(lost).toHaveLength(1);
  });
});

/** This process's OS threads: a worker thread is one of them until it has stopped. */
function threads(): number {
  return Number(/^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 10_000) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
