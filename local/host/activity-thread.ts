/**
 * The activity thread: where the offline host runs the app's activity functions (see
 * activity-threads.ts for why). It loads the app as the main thread does and runs each activity
 * it is handed with its own InvocationContext, sending back the result's JSON text, or the error,
 * and every log line as it is written.
 */
import { InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { loadApp } from './load-app';
import type { ActivityRequest, ThreadMessage } from './activity-threads';

const port = parentPort!;
const post = (message: ThreadMessage) => port.postMessage(message);

try {
  const registry = loadApp((workerData as { appEntry: string }).appEntry);
  port.on('message', (request: ActivityRequest) => {
    void run(registry.activities.get(request.name), request);
  });
  post({ kind: 'ready' });
} catch (error) {
  post({ kind: 'broken', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}

async function run(
  fn: ReturnType<ReturnType<typeof loadApp>['activities']['get']>,
  { id, name, input }: ActivityRequest,
): Promise<void> {
  if (!fn) {
    post({
      kind: 'failed',
      id,
      error: { message: `Activity function '${name}' does not exist on the activity thread.` },
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
