/** The offline host's activity thread: the app's activities run there, as they would on the main thread. */
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { InvocationContext } from '@azure/functions';
import { loadRegistry, type FunctionRegistry } from '../../local/engine/registry';
import { ActivityThread } from '../../local/host/activity-threads';
import type { HostLogger } from '../../local/host/logger';
import './fixtures/activity-thread';

const FIXTURE = join(__dirname, 'fixtures', 'activity-thread.ts');

let registry: FunctionRegistry;
let thread: ActivityThread;
let logged: [string, string, string][];
const log: HostLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  app: (level, functionName, text) => logged.push([level, functionName, String(text)]),
};

beforeEach(() => {
  registry = loadRegistry();
  logged = [];
  thread = new ActivityThread(FIXTURE, log);
  thread.adopt(registry);
});

afterEach(async () => {
  await thread.close();
});

const run = (name: string, input?: unknown): Promise<unknown> =>
  Promise.resolve(registry.activities.get(name)!.handler(input, new InvocationContext({ functionName: name })));

describe('ActivityThread', () => {
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

  it('runs many at once on the one thread', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, index) => run('thread_echo', index)));
    expect(results.map((result) => (result as { input: number }).input)).toEqual([...Array(20).keys()]);
    expect(new Set(results.map((result) => (result as { threadId: number }).threadId)).size).toBe(1);
  });

  it('fails as the activity failed: the error with its message and stack, or the value thrown', async () => {
    const error = (await run('thread_fails').catch((thrown: unknown) => thrown)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('boom on the thread');
    expect(error.stack).toMatch(/boom on the thread[\s\S]*fixtures[/\\]activity-thread\.ts/);
    await expect(run('thread_throws_text')).rejects.toBe('plain text');
  });

  it('fails what ran when the thread stops, and starts a new thread for the next activity', async () => {
    await run('thread_echo', 'first');
    await expect(run('thread_exits')).rejects.toThrow('the activity thread stopped (exit code 3)');
    expect(await run('thread_echo', 'again')).toMatchObject({ input: 'again' });
  });

  it('starts nothing once closed', async () => {
    await thread.close();
    await expect(run('thread_echo', 'late')).rejects.toThrow('the host is stopping');
  });

  it('says so when the thread cannot load the app', async () => {
    const broken = new ActivityThread(join(__dirname, 'fixtures', 'no-such-app.js'), log);
    broken.adopt(registry);
    await expect(run('thread_echo')).rejects.toThrow(/could not load the app: .*no-such-app\.js/s);
    await broken.close();
  });
});
