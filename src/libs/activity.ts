/**
 * Activity contracts and the one wrapper every activity runs in.
 *
 * A contract pairs an activity's registered name with its command schema and the facts it may
 * answer with. The registration parses commands with it; the saga calls through it, so the
 * orchestrator's inputs and results are one typed thing with the activity (as Temporal's
 * `proxyActivities<typeof activities>` makes them).
 *
 * The wrapper makes the retry policies mean what they say. Durable Functions retries every error
 * an activity throws (the SDK has no non-retryable filter), so only transient faults may throw:
 * a TransientError, or what the wrapper recognises as one (Cosmos or Storage 408/429/449/5xx, a
 * connection refused or reset, a timeout). Anything else - a malformed command, a bug, a state the
 * caller should never have asked about - comes back as an ActivityDefect value after one attempt,
 * and the saga ends the step on it at once instead of spending the step's whole retry budget.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import * as z from 'zod';
import { correlatedLogger, type Logger } from './correlation';
import { isUnavailable } from './cosmos';
import { factType, type ActivityDefect } from './events';

/** An activity as both sides see it: its registered name, what it is asked, what it may answer. */
export interface ActivityContract<Name extends string = string, Command = unknown, Result = unknown> {
  readonly name: Name;
  readonly command: z.ZodType<Command>;
  readonly results: readonly z.ZodType[];
  /** Carries the result type only; never set. */
  readonly resultType?: Result;
}

export type CommandOf<C> = C extends ActivityContract<string, infer Command, unknown> ? Command : never;
export type ResultOf<C> = C extends ActivityContract<string, unknown, infer Result> ? Result : never;

/** Declares a contract: `activity('chargePayment', ChargePayment, [PaymentCharged, PaymentDeclined])`. */
export function activity<
  const Name extends string,
  Command extends z.ZodType,
  const Results extends readonly z.ZodType[],
>(name: Name, command: Command, results: Results): ActivityContract<Name, z.infer<Command>, z.infer<Results[number]>> {
  return { name, command: command as z.ZodType<z.infer<Command>>, results };
}

/** What a handler gets beside its command. */
export interface ActivityTools {
  /** Tagged with the command's order and correlation ids. */
  log: Logger;
  context: InvocationContext;
}

export type ActivityHandler<Command, Result> = (command: Command, tools: ActivityTools) => Promise<Result>;

/** The handler a contract calls for: `HandlerOf<typeof PaymentsContract.charge>`. */
export type HandlerOf<C> = ActivityHandler<CommandOf<C>, ResultOf<C>>;

/** The function the host invokes: any input, the contract's result or a defect. */
export type RegisteredActivity<Result> = (
  input: unknown,
  context: InvocationContext,
) => Promise<Result | ActivityDefect>;

const TRANSIENT_HTTP = new Set([408, 429, 449, 500, 502, 503, 504]);

/**
 * Faults a retry may cure: TransientError, an unreachable or throttling Cosmos (isUnavailable),
 * a Storage (queue) call answered 408/429/5xx (Azure SDK errors carry `statusCode`), and a managed
 * identity's token not obtained (the identity endpoint unreachable or busy): in Azure every Cosmos
 * and queue call first gets a token, and a blip there must not end a step at once. A misconfigured
 * identity fails the same way on every attempt and ends when the step's policy gives up.
 */
const TOKEN_FAILURES = new Set(['CredentialUnavailableError', 'AuthenticationError']);

export function isTransient(error: unknown): boolean {
  if (isUnavailable(error)) return true;
  if (error instanceof Error && TOKEN_FAILURES.has(error.name)) return true;
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode === 'number' && TRANSIENT_HTTP.has(statusCode);
}

function idsIn(value: unknown): { orderId?: string; correlationId?: string } {
  if (typeof value !== 'object' || value === null) return {};
  const { orderId, correlationId } = value as { orderId?: unknown; correlationId?: unknown };
  return {
    ...(typeof orderId === 'string' ? { orderId } : {}),
    ...(typeof correlationId === 'string' ? { correlationId } : {}),
  };
}

export function defect(
  activityName: string,
  reason: string,
  errorType: string,
  ids: { orderId?: string; correlationId?: string } = {},
): ActivityDefect {
  return { type: factType('activities', 'ActivityDefect'), activity: activityName, reason, errorType, ...ids };
}

/** Wraps a handler: parses its command, gives it a correlated logger, and turns defects into values. */
export function wrapActivity<Name extends string, Command, Result>(
  contract: ActivityContract<Name, Command, Result>,
  handler: ActivityHandler<Command, Result>,
): RegisteredActivity<Result> {
  return async (input, context) => {
    const parsed = contract.command.safeParse(input);
    const ids = idsIn(parsed.success ? parsed.data : input);
    const log = correlatedLogger(context, {
      correlationId: ids.correlationId ?? 'unknown',
      ...(ids.orderId ? { orderId: ids.orderId } : {}),
    });
    if (!parsed.success) {
      const reason = `Malformed command: ${z.prettifyError(parsed.error)}`;
      log.error('activity defect: malformed command', { reason });
      return defect(contract.name, reason, 'MalformedCommand', ids);
    }
    try {
      return await handler(parsed.data, { log, context });
    } catch (error) {
      if (isTransient(error)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      const errorType = error instanceof Error ? error.name : typeof error;
      log.error('activity defect: not retried', { reason, errorType });
      return defect(contract.name, reason, errorType, ids);
    }
  };
}

/** Registers the activity under its contract's name and returns what the host will invoke. */
export function registerActivity<Name extends string, Command, Result>(
  contract: ActivityContract<Name, Command, Result>,
  handler: ActivityHandler<Command, Result>,
): RegisteredActivity<Result> {
  const registered = wrapActivity(contract, handler);
  df.app.activity(contract.name, { handler: registered });
  return registered;
}
