/**
 * Runs the app's storage queue triggers the way the Functions host's queue listener does:
 * receive a batch, invoke the function once per message (base64 JSON arrives parsed), delete
 * the message when the function returns, and when it throws make it visible again - until its
 * dequeue count reaches `maxDequeueCount`, when the message moves to `<queue>-poison`.
 *
 * Delivery is at least once, as in Azure: a message whose function throws is delivered again,
 * and a host that dies mid-invocation leaves the message to reappear after its visibility timeout.
 */
import { InvocationContext } from '@azure/functions';
import type { QueueClient } from '@azure/storage-queue';
import { randomUUID } from 'node:crypto';
import { queueClient } from '../../src/libs/storage-queues';
import type { LogHandler } from './episode';
import type { FunctionRegistry, QueueFunction } from './registry';

export interface QueueTriggerOptions {
  /** host.json `extensions.queues.maxDequeueCount` (the host's default is 5). */
  maxDequeueCount?: number;
  /** host.json `extensions.queues.batchSize` (default 16). */
  batchSize?: number;
  /** How long a received message stays invisible while its function runs (the host uses 10 min). */
  leaseSeconds?: number;
  /** host.json `extensions.queues.visibilityTimeout`: the wait before a failed message is tried again (default 0). */
  retryDelaySeconds?: number;
  log?: LogHandler;
  /** Which queue client to use for a name; the app's own storage settings by default. */
  clientFor?: (queueName: string) => QueueClient;
}

export interface PollResult {
  invoked: number;
  succeeded: number;
  failed: number;
  poisoned: number;
}

export class QueueTriggers {
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly options: QueueTriggerOptions = {},
  ) {
    for (const fn of registry.queues) {
      if (fn.connection !== 'AzureWebJobsStorage')
        throw new Error(`${fn.name}: only the AzureWebJobsStorage connection is supported here, not ${fn.connection}`);
    }
  }

  get functions(): readonly QueueFunction[] {
    return this.registry.queues;
  }

  /** One pass over every queue trigger: receive what is visible and run it. */
  async pollOnce(): Promise<PollResult> {
    const total: PollResult = { invoked: 0, succeeded: 0, failed: 0, poisoned: 0 };
    for (const fn of this.registry.queues) {
      const result = await this.pollFunction(fn);
      for (const key of Object.keys(total) as (keyof PollResult)[]) total[key] += result[key];
    }
    return total;
  }

  /** Polls until a pass finds nothing to run (a test's "let the consumers catch up"). */
  async drain(maxPasses = 50): Promise<PollResult> {
    const total: PollResult = { invoked: 0, succeeded: 0, failed: 0, poisoned: 0 };
    for (let pass = 0; pass < maxPasses; pass += 1) {
      const result = await this.pollOnce();
      for (const key of Object.keys(total) as (keyof PollResult)[]) total[key] += result[key];
      if (result.invoked === 0) return total;
    }
    throw new Error(`queues still busy after ${maxPasses} passes`);
  }

  /** Polls on wall time until stopped (the offline host). */
  start(intervalMs = 500): void {
    const tick = () => {
      if (this.stopped) return;
      this.polling = this.pollOnce()
        .catch((error: unknown) =>
          this.options.log?.(
            'warning',
            'queue-triggers',
            'poll failed; trying again',
            error instanceof Error ? error.message : error,
          ),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, intervalMs).unref();
        });
    };
    tick();
  }

  /** Stops polling and waits for the pass in progress (its messages are finished or left to reappear). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
  }

  private client(queueName: string): QueueClient {
    return (this.options.clientFor ?? queueClient)(queueName);
  }

  private async pollFunction(fn: QueueFunction): Promise<PollResult> {
    const result: PollResult = { invoked: 0, succeeded: 0, failed: 0, poisoned: 0 };
    const queue = this.client(fn.queueName);
    const { receivedMessageItems } = await queue.receiveMessages({
      numberOfMessages: this.options.batchSize ?? 16,
      visibilityTimeout: this.options.leaseSeconds ?? 600,
    });
    const maxDequeueCount = this.options.maxDequeueCount ?? 5;
    await Promise.all(
      receivedMessageItems.map(async (message) => {
        result.invoked += 1;
        const error = await this.invoke(fn, message);
        if (!error) {
          result.succeeded += 1;
          await queue.deleteMessage(message.messageId, message.popReceipt);
          return;
        }
        result.failed += 1;
        if (message.dequeueCount >= maxDequeueCount) {
          result.poisoned += 1;
          const poison = this.client(`${fn.queueName}-poison`);
          await poison.createIfNotExists();
          await poison.sendMessage(message.messageText);
          await queue.deleteMessage(message.messageId, message.popReceipt);
          this.options.log?.(
            'warning',
            fn.name,
            `message ${message.messageId} moved to ${poison.name} after ${message.dequeueCount} attempts`,
            error,
          );
        } else {
          await queue.updateMessage(
            message.messageId,
            message.popReceipt,
            undefined,
            this.options.retryDelaySeconds ?? 0,
          );
        }
      }),
    );
    return result;
  }

  /** Runs the function on one message; answers the error it threw, if any. */
  private async invoke(
    fn: QueueFunction,
    message: { messageId: string; messageText: string; dequeueCount: number; insertedOn: Date; expiresOn: Date },
  ): Promise<unknown> {
    const context = new InvocationContext({
      functionName: fn.name,
      invocationId: randomUUID(),
      options: fn.options,
      triggerMetadata: {
        id: message.messageId,
        dequeueCount: message.dequeueCount,
        insertionTime: message.insertedOn.toISOString(),
        expirationTime: message.expiresOn.toISOString(),
      },
      logHandler: (level, ...args) => this.options.log?.(level, fn.name, ...args),
    });
    try {
      await fn.handler(decodeBody(message.messageText), context);
      return undefined;
    } catch (error) {
      return error ?? new Error('queue function failed');
    }
  }
}

/** As the host does with `messageEncoding: base64`: decode, then JSON text arrives parsed. */
export function decodeBody(text: string): unknown {
  const decoded = Buffer.from(text, 'base64').toString('utf8');
  // Not base64 at all: the host could not decode it either, so the function fails on it.
  if (Buffer.from(decoded, 'utf8').toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, ''))
    throw new Error('message is not base64-encoded');
  try {
    return JSON.parse(decoded) as unknown;
  } catch {
    return decoded;
  }
}
