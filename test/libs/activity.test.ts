/** The one activity wrapper: what throws (and so is retried by the host) and what comes back as a defect. */
import { InvocationContext } from '@azure/functions';
import * as z from 'zod';
import { capturedFunctions } from '../../local/engine/functions-core';
import { activity, registerActivity, wrapActivity } from '../../src/libs/activity';
import { TransientError } from '../../src/libs/errors';
import { factType, isDefect } from '../../src/libs/events';

const Ping = z.object({
  orderId: z.string().min(1),
  correlationId: z.string().min(1),
  times: z.number().int().positive(),
});
const Pong = z.object({ type: z.literal('pong'), times: z.number() });
const ping = activity('pingForTest', Ping, [Pong]);
const command = { orderId: 'order-1', correlationId: 'corr-1', times: 2 };

function invocation() {
  const lines: string[] = [];
  const context = new InvocationContext({
    functionName: 'pingForTest',
    logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')),
  });
  return Object.assign(context, { lines });
}

const throwing = (error: unknown) =>
  wrapActivity(ping, async () => {
    throw error;
  });

describe('the activity wrapper', () => {
  it('runs the handler on the parsed command, with a logger tagged with its ids', async () => {
    const seen: unknown[] = [];
    const handler = wrapActivity(ping, async (parsed, { log }) => {
      seen.push(parsed);
      log.info('pinged', { times: parsed.times });
      return { type: 'pong' as const, times: parsed.times };
    });
    const context = invocation();
    expect(await handler({ ...command, extra: 'dropped' }, context)).toEqual({ type: 'pong', times: 2 });
    expect(seen).toEqual([command]);
    expect(JSON.parse(context.lines[0])).toEqual({
      message: 'pinged',
      function: 'pingForTest',
      correlationId: 'corr-1',
      orderId: 'order-1',
      times: 2,
    });
  });

  it('answers a malformed command with a defect, without running the handler', async () => {
    let ran = false;
    const handler = wrapActivity(ping, async () => {
      ran = true;
      return { type: 'pong' as const, times: 0 };
    });
    const answer = await handler({ ...command, times: 0 }, invocation());
    expect(ran).toBe(false);
    expect(answer).toEqual({
      type: factType('activities', 'ActivityDefect'),
      activity: 'pingForTest',
      errorType: 'MalformedCommand',
      reason: expect.stringMatching(/^Malformed command: .*times/s),
      orderId: 'order-1',
      correlationId: 'corr-1',
    });
    expect(isDefect(answer)).toBe(true);
  });

  it.each([
    ['a TransientError', new TransientError('gateway timed out')],
    ['Cosmos throttling (429)', Object.assign(new Error('Request rate is large'), { code: 429 })],
    ['Cosmos unavailable (503)', Object.assign(new Error('Service unavailable'), { code: 503 })],
    [
      'a Storage server error (statusCode 500)',
      Object.assign(new Error('InternalError'), { statusCode: 500, code: 'InternalError' }),
    ],
    ['a connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    [
      'a reset beneath a wrapper error',
      new Error('fetch failed', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }),
    ],
    [
      'a managed identity that could not get a token',
      Object.assign(new Error('ManagedIdentityCredential: Network unreachable.'), {
        name: 'CredentialUnavailableError',
      }),
    ],
    [
      'a token request the identity endpoint refused for now',
      Object.assign(new Error('throttled'), { name: 'AuthenticationError', statusCode: 429 }),
    ],
  ])('lets %s throw, so the host retries it', async (_label, error) => {
    await expect(throwing(error)(command, invocation())).rejects.toBe(error);
  });

  it.each([
    ['a plain Error (a bug)', new Error('no charge under key order-1:charge to refund'), 'Error'],
    [
      'a named error',
      Object.assign(new Error('shipment for order order-1 was cancelled'), { name: 'ShipmentAlreadyCancelled' }),
      'ShipmentAlreadyCancelled',
    ],
    [
      'a Cosmos bad request (400)',
      Object.assign(new Error('One of the specified inputs is invalid'), { code: 400 }),
      'Error',
    ],
    ['a Storage 404', Object.assign(new Error('QueueNotFound'), { statusCode: 404 }), 'Error'],
  ])('answers %s with a defect after one attempt', async (_label, error, errorType) => {
    const context = invocation();
    expect(await throwing(error)(command, context)).toEqual({
      type: factType('activities', 'ActivityDefect'),
      activity: 'pingForTest',
      reason: error.message,
      errorType,
      orderId: 'order-1',
      correlationId: 'corr-1',
    });
    expect(context.lines.some((line) => JSON.parse(line).message === 'activity defect: not retried')).toBe(true);
  });

  it('registers the activity under its contract name', () => {
    registerActivity(activity('pongForTest', Ping, [Pong]), async (parsed) => ({
      type: 'pong' as const,
      times: parsed.times,
    }));
    expect(capturedFunctions().has('pongForTest')).toBe(true);
  });
});
