/**
 * The offline host runs the app's activity functions on a thread of their own.
 *
 * In Azure and under `func start` the Functions host and the Node worker are two processes, each
 * with a CPU of its own: the host runs the Durable extension, the HTTP front and the storage
 * calls; the worker runs the app. Here one process plays both parts, so on one thread every
 * Cosmos call an activity makes (most of an order's CPU) waits behind the engine and the HTTP
 * front, and they wait behind it. The activities get a second thread, as they would get the
 * worker's CPU; each activity runs there exactly as on the main thread (its handler, its own
 * InvocationContext, the same JSON in and out), and the engine on the main thread still decides
 * when it runs, records its result and retries it.
 *
 * Orchestrations and HTTP functions stay on the main thread: an episode is a few milliseconds of
 * replay, and an HTTP function's durable client calls the engine in the same thread.
 */
import type { InvocationContext } from '@azure/functions';
import { join } from 'node:path';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import type { FunctionRegistry } from '../engine/registry';
import type { HostLogger } from './logger';

export interface ActivityRequest {
  id: number;
  name: string;
  input: unknown;
}

export type ThreadMessage =
  | { kind: 'ready' }
  | { kind: 'broken'; message: string }
  | { kind: 'log'; id: number; level: string; text: string }
  | { kind: 'completed'; id: number; resultJson: string }
  | { kind: 'failed'; id: number; error: { message: string; stack?: string } | { thrown: string } };

interface Running {
  name: string;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

export class ActivityThread {
  private started: Promise<Worker> | undefined;
  private readonly running = new Map<number, Running>();
  private nextId = 1;
  private closing = false;

  constructor(
    private readonly appEntry: string,
    private readonly log: HostLogger,
  ) {}

  /** Makes every activity of `registry` run on this thread (the thread loads the same app). */
  adopt(registry: FunctionRegistry): void {
    for (const fn of registry.activities.values()) {
      const name = fn.name;
      fn.handler = (input: unknown, _context: InvocationContext) => this.call(name, input);
    }
  }

  /** Starts the thread now rather than with the first activity: it loads the app meanwhile. */
  warmUp(): void {
    this.start().catch((error: unknown) => this.log.error('the activity thread did not start', error));
  }

  /** Stops the thread; call once the engine has no activity running. */
  async close(): Promise<void> {
    this.closing = true;
    const started = this.started;
    this.started = undefined;
    const worker = await started?.catch(() => undefined);
    await worker?.terminate();
  }

  private async call(name: string, input: unknown): Promise<unknown> {
    const worker = await this.start();
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      this.running.set(id, { name, resolve, reject });
      worker.postMessage({ id, name, input } satisfies ActivityRequest);
    });
  }

  private start(): Promise<Worker> {
    if (this.closing) return Promise.reject(new Error('the host is stopping: no new activity starts'));
    this.started ??= new Promise<Worker>((resolve, reject) => {
      const worker = new Worker(join(__dirname, 'activity-thread.ts'), {
        // The thread's file is TypeScript: the host runs under tsx, which a thread inherits; a
        // thread started from elsewhere (a test runner) is given it.
        execArgv: process.execArgv.some((arg) => arg.includes('tsx'))
          ? process.execArgv
          : [...process.execArgv, '--import', 'tsx'],
        workerData: { appEntry: this.appEntry },
        // The app reads its settings lazily; the host sets some after this thread starts.
        env: SHARE_ENV,
      });
      worker.on('message', (message: ThreadMessage) => {
        if (message.kind === 'ready') resolve(worker);
        else if (message.kind === 'broken')
          reject(new Error(`the activity thread could not load the app: ${message.message}`));
        else this.settle(message);
      });
      worker.on('error', (error) => this.log.error('the activity thread failed', error));
      worker.on('exit', (code) => {
        this.started = undefined;
        const lost = new Error(`the activity thread stopped (exit code ${code})`);
        reject(lost);
        // What ran there has no result: failed, so the engine's retry policy decides, as for a crash.
        for (const running of this.running.values()) running.reject(lost);
        this.running.clear();
      });
    });
    return this.started;
  }

  private settle(message: Exclude<ThreadMessage, { kind: 'ready' } | { kind: 'broken' }>): void {
    const running = this.running.get(message.id);
    if (!running) return;
    if (message.kind === 'log') {
      this.log.app(message.level, running.name, message.text);
      return;
    }
    this.running.delete(message.id);
    if (message.kind === 'completed') running.resolve(JSON.parse(message.resultJson));
    else if ('thrown' in message.error) running.reject(JSON.parse(message.error.thrown));
    else running.reject(Object.assign(new Error(message.error.message), { stack: message.error.stack }));
  }
}
