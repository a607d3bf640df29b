/**
 * Runs activity functions: at most `maxConcurrent` at once, each through its registered handler
 * with a fresh InvocationContext, with an optional fault injector in front.
 */
import { InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import type { Clock } from './clock';
import type { LogHandler } from './episode';
import { toJsonText, type FailureDetails } from './history';
import type { FunctionRegistry } from './registry';
import type { WorkTracker } from './work-tracker';

export interface ActivityCall {
  instanceId: string;
  activityName: string;
  input: unknown;
  taskId: number;
  /** Retry attempt, from 1 (always 1 without a retry policy). */
  attempt: number;
  /** How often the host has handed this very task out, from 1 (re-runs after a simulated crash). */
  delivery: number;
}

/**
 * What a fault injector may do to one activity call:
 * - `'transient'`: fail it without running it (a dependency blipped);
 * - `'crashAfter'`: run it, then lose the result as if the host died before recording it; the
 *   host hands the same task out again (at-least-once delivery, invisible in history);
 * - `'failAfter'`: run it, then report a failure anyway (the side effect happened; a retry
 *   policy will run it again);
 * - `{ delayMs }`: wait that long on the engine's clock first (slowness);
 * - `undefined`: no fault.
 */
export type Fault = 'transient' | 'crashAfter' | 'failAfter' | { delayMs: number } | undefined;
export type FaultInjector = (call: ActivityCall) => Fault;

export interface TaskFailure {
  reason: string;
  /** Absent when the failure travels as FailureDetails. */
  details?: string;
  failureDetails?: FailureDetails;
}

export type ActivityOutcome =
  { kind: 'completed'; resultJson: string } | { kind: 'failed'; failure: TaskFailure } | { kind: 'lost' };

export class ActivityRunner {
  private running = 0;
  private readonly queue: ((granted: boolean) => void)[] = [];
  private closed = false;

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly clock: Clock,
    private readonly work: WorkTracker,
    private readonly options: { maxConcurrent?: number; faults?: FaultInjector; log?: LogHandler } = {},
  ) {}

  /** Runs the call to its outcome; the caller records it. Never rejects. */
  async run(call: ActivityCall): Promise<ActivityOutcome> {
    const fault = this.decideFault(call);
    if (typeof fault === 'object') await this.clock.sleep(fault.delayMs);
    if (fault === 'transient')
      return failed(call.activityName, new Error(`Injected transient fault in activity '${call.activityName}'`));

    const endWork = this.work.begin();
    if (!(await this.acquireSlot())) {
      // Closed before it could start: nothing ran, so the host hands the task out again later.
      endWork();
      return { kind: 'lost' };
    }
    try {
      const outcome = await this.invoke(call);
      if (fault === 'crashAfter') return { kind: 'lost' };
      if (fault === 'failAfter')
        return failed(call.activityName, new Error(`Injected fault after activity '${call.activityName}' ran`));
      return outcome;
    } finally {
      this.releaseSlot();
      endWork();
    }
  }

  private decideFault(call: ActivityCall): Fault {
    try {
      return this.options.faults?.(call);
    } catch (error) {
      this.options.log?.('error', call.activityName, 'fault injector threw; running without a fault', error);
      return undefined;
    }
  }

  private async invoke(call: ActivityCall): Promise<ActivityOutcome> {
    const fn = this.registry.activities.get(call.activityName);
    // TaskNonexistentActivityShim's message.
    if (!fn)
      return failed(call.activityName, new Error(`Activity function '${call.activityName}' does not exist.`), {
        viaWorker: false,
      });
    const context = new InvocationContext({
      functionName: fn.name,
      invocationId: randomUUID(),
      options: fn.options,
      logHandler: (level, ...args) => this.options.log?.(level, fn.name, ...args),
    });
    try {
      const result = await fn.handler(call.input, context);
      return { kind: 'completed', resultJson: toJsonText(result) };
    } catch (error) {
      return failed(fn.name, error);
    }
  }

  /**
   * A graceful shutdown: activities already running finish, those waiting for a slot never
   * start (they come back as 'lost', still pending in the store for the next host).
   */
  close(): void {
    this.closed = true;
    for (const waiter of this.queue.splice(0)) waiter(false);
  }

  /** Resolves true with a slot, or false once the runner is closed. */
  private acquireSlot(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const limit = this.options.maxConcurrent ?? Infinity;
    if (this.running < limit) {
      this.running += 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.queue.shift();
    // The slot passes straight to the next caller, so `running` stays as is.
    if (next) next(true);
    else this.running -= 1;
  }
}

function failed(activityName: string, error: unknown, options: { viaWorker?: boolean } = {}): ActivityOutcome {
  return { kind: 'failed', failure: taskFailureOf(activityName, error, options) };
}

/**
 * An activity error as the extension (3.19.0) records it in TaskFailed (TaskActivityShim.RunAsync):
 * the Functions host hands it the worker's failure as an RpcException whose message reads
 * `Result: Failure\nException: <message>\nStack: <stack>`; OutOfProcExceptionHelpers takes the
 * RpcException's RemoteMessage (the worker's message) into a new exception, and the shim throws
 * TaskFailureException with Reason `Activity function '<name>' failed: <message>` and Details the
 * serialized exception (Utils.SerializeCause). The SDK shows the orchestrator `${Reason} \n ${Details}`.
 *
 * When the app set an ExceptionPropertiesProvider, the SDK's activity wrapper has put a
 * FailureDetails JSON in the message; the extension's ActivityMiddleware reads it
 * (OutOfProcMiddleware.TryGetStructuredFailureDetails) into a TaskFailed with Reason
 * `Activity function '<name>' failed with an unhandled exception.`, no Details and those
 * FailureDetails, which the SDK turns into a TaskFailedError.
 */
export function taskFailureOf(
  activityName: string,
  error: unknown,
  options: { viaWorker?: boolean } = {},
): TaskFailure {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : toJsonText(error);
  const stack = (error instanceof Error ? error.stack : undefined) ?? message;
  const viaWorker = options.viaWorker ?? true;
  const structured = viaWorker ? structuredFailure(message) : undefined;
  if (structured)
    return {
      reason: `Activity function '${activityName}' failed with an unhandled exception.`,
      failureDetails: structured,
    };
  if (!viaWorker)
    return {
      reason: `Activity function '${activityName}' failed: ${message}`,
      details: serializedException(FUNCTION_FAILED, message, undefined),
    };
  return {
    reason: `Activity function '${activityName}' failed: ${message}`,
    details: serializedException(SYSTEM_EXCEPTION, message, `Result: Failure\nException: ${message}\nStack: ${stack}`),
  };
}

const SYSTEM_EXCEPTION = ['System.Exception', 'System.Private.CoreLib'] as const;
const FUNCTION_FAILED = [
  'Microsoft.Azure.WebJobs.Extensions.DurableTask.FunctionFailedException',
  'Microsoft.Azure.WebJobs.Extensions.DurableTask',
] as const;

/** The shape Newtonsoft.Json gives an exception (the extension's error data converter). */
function serializedException(
  [className, assembly]: readonly [string, string],
  message: string,
  rpcMessage: string | undefined,
): string {
  const exception = (className: string, assembly: string, text: string, inner: unknown) => ({
    $type: `${className}, ${assembly}`,
    ClassName: className,
    Message: text,
    Data: null,
    InnerException: inner,
    HelpURL: null,
    StackTraceString: null,
    RemoteStackTraceString: null,
    RemoteStackIndex: 0,
    ExceptionMethod: null,
    HResult: -2146233088,
    Source: null,
    WatsonBuckets: null,
  });
  const inner =
    rpcMessage === undefined
      ? null
      : exception(
          'Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException',
          'Microsoft.Azure.WebJobs.Script',
          rpcMessage,
          null,
        );
  return JSON.stringify(exception(className, assembly, message, inner));
}
const STRUCTURED_PREFIX = 'ActivityMiddleware.StructuredActivityFailure: ';

/** TryExtractSerializedFailureDetailsFromException: a JSON object on the message's first line. */
function structuredFailure(message: string): FailureDetails | undefined {
  const text = (message.startsWith(STRUCTURED_PREFIX) ? message.slice(STRUCTURED_PREFIX.length) : message)
    .split('\n')[0]
    .trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const payload = JSON.parse(text) as Record<string, unknown>;
    if (typeof payload.errorType !== 'string' || typeof payload.errorMessage !== 'string') return undefined;
    return {
      ErrorType: payload.errorType,
      ErrorMessage: payload.errorMessage,
      StackTrace: typeof payload.stackTrace === 'string' ? payload.stackTrace : undefined,
      IsNonRetriable: payload.isNonRetriable === true,
      Properties:
        typeof payload.properties === 'object' && payload.properties !== null
          ? (payload.properties as Record<string, unknown>)
          : undefined,
    };
  } catch {
    return undefined;
  }
}
