/**
 * The offline host runs the app's activities and orchestrator episodes on a thread of their own.
 *
 * In Azure and under `func start` the Functions host and the Node worker are two processes, each
 * with a CPU of its own: the host runs the Durable extension, the HTTP front and the storage
 * calls; the worker runs the app. Here one process plays both parts, so on one thread every
 * Cosmos call an activity makes and every replay of an orchestrator waits behind the engine and
 * the HTTP front, and they wait behind it. This thread plays the worker's part for activities
 * and orchestrations: it loads the same app and runs each function exactly as the main thread
 * would (its handler, its own InvocationContext, the same JSON in and out), while the engine on
 * the main thread still decides what runs when, records every result and retries.
 *
 * HTTP functions (and queue triggers) stay on the main thread, where their durable client talks
 * to the engine in process.
 */
import type { InvocationContext } from '@azure/functions';
import { join } from 'node:path';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import type { FunctionRegistry } from '../engine/registry';
import type { HostLogger } from './logger';

export type ThreadedKind = 'activity' | 'orchestration';

export interface ThreadRequest {
  id: number;
  kind: ThreadedKind;
  name: string;
  /** An activity's input; an orchestration's trigger input (its history and input). */
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

export class WorkerThread {
  private started: Promise<Worker> | undefined;
  /** Settles when the last thread started has exited: a broken one is terminated, not awaited, where it broke. */
  private exited: Promise<void> = Promise.resolve();
  private readonly running = new Map<number, Running>();
  private nextId = 1;
  private closing = false;

  constructor(
    private readonly appEntry: string,
    private readonly log: HostLogger,
    /** Told when the thread stops on its own (an app's `process.exit`, an uncaught exception). */
    private readonly onLost: (error: Error) => void = () => undefined,
  ) {}

  /** Makes every activity and orchestration of `registry` run on this thread (it loads the same app). */
  adopt(registry: FunctionRegistry): void {
    for (const fn of registry.activities.values()) {
      const name = fn.name;
      fn.handler = (input: unknown, _context: InvocationContext) => this.call('activity', name, input);
    }
    for (const fn of registry.orchestrations.values()) {
      const name = fn.name;
      fn.handler = (input: unknown, _context: InvocationContext) => this.call('orchestration', name, input);
    }
  }

  /** Starts the thread now rather than with the first call: it loads the app meanwhile. */
  warmUp(): void {
    this.start().catch((error: unknown) => this.log.error('the worker thread did not start', error));
  }

  /** Stops the thread; call once the engine runs nothing more. */
  async close(): Promise<void> {
    this.closing = true;
    const started = this.started;
    this.started = undefined;
    const worker = await started?.catch(() => undefined);
    await worker?.terminate();
    await this.exited;
  }

  private async call(kind: ThreadedKind, name: string, input: unknown): Promise<unknown> {
    const worker = await this.start();
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      this.running.set(id, { name, resolve, reject });
      worker.postMessage({ id, kind, name, input } satisfies ThreadRequest);
    });
  }

  private start(): Promise<Worker> {
    if (this.closing) return Promise.reject(new Error('the host is stopping: nothing new starts'));
    this.started ??= new Promise<Worker>((resolve, reject) => {
      const worker = new Worker(join(__dirname, 'worker-thread-entry.ts'), {
        // The thread's file is TypeScript: the host runs under tsx, which a thread inherits with
        // the rest of the host's options; a thread started from elsewhere (a test runner) is given
        // tsx alone (a process-wide option such as --max-old-space-size may not be passed on).
        execArgv: process.execArgv.some((arg) => arg.includes('tsx')) ? undefined : ['--import', 'tsx'],
        workerData: { appEntry: this.appEntry },
        // The app reads its settings lazily; the host sets some after this thread starts.
        env: SHARE_ENV,
      });
      this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
      let broken = false;
      worker.on('message', (message: ThreadMessage) => {
        if (message.kind === 'ready') resolve(worker);
        else if (message.kind === 'broken') {
          // Lost like a thread that stopped, even if the app left it running (a timer, a client):
          // otherwise every call would fail as if the activity had, and the saga would act on that.
          broken = true;
          const error = new Error(`the worker thread could not load the app: ${message.message}`);
          reject(error);
          void worker.terminate();
          if (!this.closing) this.onLost(error);
        } else this.settle(message);
      });
      worker.on('error', (error) => this.log.error('the worker thread failed', error));
      worker.on('exit', (code) => {
        this.started = undefined;
        const lost = new Error(`the worker thread stopped (exit code ${code})`);
        reject(lost);
        // What ran there has no result: it fails, and the owner decides what that means.
        for (const running of this.running.values()) running.reject(lost);
        this.running.clear();
        if (!this.closing && !broken) this.onLost(lost);
      });
    });
    return this.started;
  }

  private settle(message: Exclude<ThreadMessage, { kind: 'ready' } | { kind: 'broken' }>): void {
    const running = this.running.get(message.id);
    if (message.kind === 'log') {
      this.log.app(message.level, running?.name ?? 'worker thread', message.text);
      return;
    }
    if (!running) return;
    this.running.delete(message.id);
    if (message.kind === 'completed') running.resolve(JSON.parse(message.resultJson));
    else if ('thrown' in message.error) running.reject(JSON.parse(message.error.thrown));
    else running.reject(Object.assign(new Error(message.error.message), { stack: message.error.stack }));
  }
}
