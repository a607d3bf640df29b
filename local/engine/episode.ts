/**
 * One orchestrator episode: hand the SDK's registered handler the history so far plus the new
 * events, exactly as the Durable extension does over the out-of-proc protocol, and read back its
 * OrchestratorState (or the failure it throws).
 */
import { InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { EventType, historyJson, type HistoryEvent } from './history';
import type { ContextOptions, OrchestratorHandler } from './registry';

/**
 * What the extension's binding sends (OrchestrationTriggerAttributeBindingProvider
 * .OrchestrationContextToString): `upperSchemaVersion` 1 (SchemaVersion.V2) for old SDKs and
 * `upperSchemaVersionNew`, which the SDK prefers. Extension 3.19.0 sends 3 (V4; its assembly loads
 * the constant 3, where the 2024 v3.x sources still had V3 = 2). So the SDK runs on ReplaySchema.V4:
 * compound Task.all/any actions arrive nested in `compoundActions` (the engine flattens them
 * itself, see actions.ts), long timers become a LongTimerTask, entity locks are allowed.
 */
export const UPPER_SCHEMA_VERSION = 1;
export const UPPER_SCHEMA_VERSION_NEW = 3;

/**
 * The Azure Storage provider's MaximumDelayTime (6 days) and LongRunningTimerIntervalLength
 * (3 days) (AzureStorageDurabilityProvider.cs), passed to the SDK as these TimeSpan strings.
 * A longer timer is one CreateTimer action for the SDK and a chain of timers for the host.
 */
export const MAXIMUM_SHORT_TIMER_DURATION = '6.00:00:00';
export const LONG_RUNNING_TIMER_INTERVAL = '3.00:00:00';
export const MAXIMUM_SHORT_TIMER_MS = 6 * 24 * 3600_000;
export const LONG_RUNNING_TIMER_INTERVAL_MS = 3 * 24 * 3600_000;
const HTTP_ASYNC_SLEEP_MS = 30_000;

/** The SDK's OrchestratorState; actions keep their SDK classes so `isCanceled` can be read. */
export interface OrchestratorState {
  isDone: boolean;
  actions: unknown[][];
  output?: unknown;
  customStatus?: unknown;
  error?: string;
  schemaVersion: number;
}

export type EpisodeOutcome =
  | { ok: true; state: OrchestratorState }
  /** `state` is the SDK's JSON state attached to the thrown error, when it could be parsed. */
  | { ok: false; message: string; stack?: string; state?: Partial<OrchestratorState> };

export interface EpisodeRequest {
  name: string;
  handler: OrchestratorHandler;
  options?: ContextOptions;
  instanceId: string;
  input: unknown;
  /** Every event of earlier episodes, then this episode's OrchestratorStarted and new event(s). */
  history: HistoryEvent[];
  log?: LogHandler;
}

export type LogHandler = (level: string, functionName: string, ...args: unknown[]) => void;

const OUT_OF_PROC_LABEL = '\n\n$OutOfProcData$:';

export async function runEpisode(request: EpisodeRequest): Promise<EpisodeOutcome> {
  const lastStarted = request.history.map((event) => event.EventType).lastIndexOf(EventType.OrchestratorStarted);
  // The SDK rewrites Timestamps into Dates in place, and may keep references: give it copies.
  const history = (JSON.parse(historyJson(request.history)) as HistoryEvent[]).map((event, index) => ({
    ...event,
    IsPlayed: index < lastStarted,
  }));
  const triggerInput = {
    history,
    input: request.input === undefined ? undefined : JSON.parse(JSON.stringify(request.input)),
    instanceId: request.instanceId,
    isReplaying: lastStarted > 0,
    parentInstanceId: undefined,
    upperSchemaVersion: UPPER_SCHEMA_VERSION,
    upperSchemaVersionNew: UPPER_SCHEMA_VERSION_NEW,
    maximumShortTimerDuration: MAXIMUM_SHORT_TIMER_DURATION,
    longRunningTimerIntervalDuration: LONG_RUNNING_TIMER_INTERVAL,
    defaultHttpAsyncRequestSleepTimeMillseconds: HTTP_ASYNC_SLEEP_MS,
  };
  // A new context each time: the SDK caches its orchestration context on `context.df`.
  const context = new InvocationContext({
    functionName: request.name,
    invocationId: randomUUID(),
    options: request.options,
    logHandler: (level, ...args) => request.log?.(level, request.name, ...args),
  });
  try {
    const state = (await request.handler(triggerInput, context)) as OrchestratorState;
    return { ok: true, state };
  } catch (error) {
    return failureOf(error);
  }
}

/** Splits the SDK's `<message>\n\n$OutOfProcData$:<state json>` back into its parts. */
function failureOf(error: unknown): EpisodeOutcome {
  const text = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? error.stack : undefined;
  const at = text.indexOf(OUT_OF_PROC_LABEL);
  if (at < 0) return { ok: false, message: text, stack };
  let state: Partial<OrchestratorState> | undefined;
  try {
    state = JSON.parse(text.slice(at + OUT_OF_PROC_LABEL.length)) as Partial<OrchestratorState>;
  } catch {
    state = undefined;
  }
  // The SDK builds that error from a flag, not from the exception (its message reads "false"):
  // the orchestrator's own error message travels in the state.
  const message = typeof state?.error === 'string' ? state.error : text.slice(0, at);
  return { ok: false, message, stack: typeof stack === 'string' && stack.includes(message) ? stack : undefined, state };
}
