/**
 * The worker thread's own code (see worker-thread.ts for why it exists): it loads the app as the
 * main thread does and runs each activity or orchestrator episode it is handed with its own
 * InvocationContext, sending back the result's JSON text, or the error, and every log line as
 * it is written.
 */
import { InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import type { RegisteredFunction } from '../engine/registry';
import { loadApp } from './load-app';
import type { ThreadMessage, ThreadRequest } from './worker-thread';

type AnyHandler = (input: unknown, context: InvocationContext) => unknown;

const port = parentPort!;
const post = (message: ThreadMessage) => port.postMessage(message);
// As on the host's main thread (main.ts): logged, not fatal.
process.on('unhandledRejection', (reason) =>
  post({ kind: 'log', id: 0, level: 'error', text: `unhandled promise rejection: ${format(reason)}` }),
);

try {
  const registry = loadApp((workerData as { appEntry: string }).appEntry);
  port.on('message', (request: ThreadRequest) => {
    const functions = request.kind === 'activity' ? registry.activities : registry.orchestrations;
    void run(functions.get(request.name) as RegisteredFunction<AnyHandler> | undefined, request);
  });
  post({ kind: 'ready' });
} catch (error) {
  post({ kind: 'broken', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}

async function run(fn: RegisteredFunction<AnyHandler> | undefined, { id, kind, name, input }: ThreadRequest) {
  if (!fn) {
    post({
      kind: 'failed',
      id,
      error: { message: `The ${kind} function '${name}' does not exist on the worker thread.` },
    });
    return;
  }
  const context = new InvocationContext({
    functionName: fn.name,
    invocationId: randomUUID(),
    options: fn.options,
    logHandler: (level, ...args) => post({ kind: 'log', id, level, text: format(...args) }),
  });
  try {
    const result = await fn.handler(input, context);
    post({ kind: 'completed', id, resultJson: JSON.stringify(result) ?? 'null' });
  } catch (error) {
    post({
      kind: 'failed',
      id,
      error:
        error instanceof Error
          ? { message: error.message, stack: error.stack }
          : { thrown: JSON.stringify(error) ?? JSON.stringify(String(error)) },
    });
  }
}
