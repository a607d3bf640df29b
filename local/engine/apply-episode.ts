/**
 * Turns one episode's outcome into changes of the instance record: history, new tasks and
 * timers, retries, long-timer chains, completion. Pure bookkeeping; the engine persists the
 * record and only then dispatches the work listed in the returned effects.
 */
import { ActionType, activityInputOf, flattenActions, takesTaskId, unsupportedAction, type SdkAction } from './actions';
import { customStatusTooLarge } from './custom-status';
import { LONG_RUNNING_TIMER_INTERVAL_MS, MAXIMUM_SHORT_TIMER_MS, type EpisodeOutcome } from './episode';
import { EventType, events, toJsonText, type HistoryEvent } from './history';
import { attemptsRemain, retryDelayMs, retryPolicyOf } from './retries';
import type { InstanceRecord, PendingActivity, PendingTimer, RetryChain, TimerChain } from './store';

export interface EpisodeEffects {
  activities: PendingActivity[];
  timers: PendingTimer[];
  cancelledTimers: number[];
}

/**
 * Whether the SDK takes a task id while processing this event, before it resumes user code:
 * the retry timer after a failed attempt, the rescheduled attempt after that timer, the next
 * timer of a long timer's chain.
 */
export function takesIdsWhenProcessed(record: InstanceRecord, event: HistoryEvent): boolean {
  const chains = Object.values(record.retryChains);
  if (event.EventType === EventType.TaskFailed)
    return chains.some((chain) => chain.waitingOn.kind === 'attempt' && chain.waitingOn.id === event.TaskScheduledId);
  if (event.EventType !== EventType.TimerFired) return false;
  const retry = chains.find((chain) => chain.waitingOn.kind === 'timer' && chain.waitingOn.id === event.TimerId);
  if (retry) return attemptsRemain(retry.policy, retry.failures);
  return event.TimerId !== undefined && event.TimerId in (record.timerChains ?? {});
}

/**
 * The events one episode delivers: every event waiting, as the extension hands a whole batch
 * to one episode, except that an event on which the SDK takes task ids (see above) must come
 * first. The SDK takes those ids in the middle of its replay, between ids of actions user code
 * scheduled after earlier events of the batch; the engine sees only the final action list, so
 * such an event opens the next episode instead. A terminate (Engine.terminate) ends its batch:
 * what comes after it is for a finished instance.
 */
export function nextBatch(record: InstanceRecord): HistoryEvent[] {
  const batch = record.inbox.slice(0, 1);
  for (const event of record.inbox.slice(1)) {
    if (batch.at(-1)!.EventType === EventType.ExecutionTerminated) break;
    if (takesIdsWhenProcessed(record, event)) break;
    batch.push(event);
  }
  return batch;
}

export function applyEpisode(
  record: InstanceRecord,
  delivered: HistoryEvent[],
  startedAt: Date,
  outcome: EpisodeOutcome,
): EpisodeEffects {
  const effects: EpisodeEffects = { activities: [], timers: [], cancelledTimers: [] };
  const appended: HistoryEvent[] = [events.orchestratorStarted(startedAt), ...delivered];
  const bookkeeping = new Bookkeeping(record, startedAt, appended, effects);
  const tooLarge = customStatusTooLarge(outcome.state?.customStatus);

  if (tooLarge) {
    // The extension's shim sets the status before it replays anything: the episode schedules
    // nothing (no retry timer either), and the instance fails without a status.
    record.customStatus = null;
    bookkeeping.failOnStatusTooLarge(tooLarge);
  } else if (!outcome.ok) {
    bookkeeping.followChains(delivered);
    if (outcome.state && 'customStatus' in outcome.state) record.customStatus = jsonSafe(outcome.state.customStatus);
    bookkeeping.fail(outcome.message, outcome.stack);
  } else {
    bookkeeping.followChains(delivered);
    const { state } = outcome;
    record.customStatus = jsonSafe(state.customStatus);
    const actions = flattenActions(state.actions);
    const problem =
      bookkeeping.checkDeterminism(actions) ?? (state.isDone ? undefined : bookkeeping.checkSupported(actions));
    if (problem) bookkeeping.fail(problem);
    else if (state.isDone) bookkeeping.complete(state.output);
    else bookkeeping.schedule(actions);
  }

  if (record.status !== 'Completed' && record.status !== 'Failed')
    appended.push(events.orchestratorCompleted(startedAt));
  record.history.push(...appended);
  record.lastUpdatedTime = startedAt.toISOString();
  return effects;
}

class Bookkeeping {
  constructor(
    private readonly record: InstanceRecord,
    private readonly at: Date,
    private readonly appended: HistoryEvent[],
    private readonly effects: EpisodeEffects,
  ) {}

  private takeTaskId(): number {
    return this.record.nextTaskId++;
  }

  /**
   * The SDK takes retry and timer-chain ids while it processes the delivered events, before user
   * code resumes (nextBatch puts the only event that takes any first).
   */
  followChains(delivered: HistoryEvent[]): void {
    for (const event of delivered) this.followChainsOf(event);
  }

  private followChainsOf(delivered: HistoryEvent): void {
    if (delivered.EventType === EventType.TimerFired && delivered.TimerId !== undefined)
      this.followTimerChain(delivered.TimerId);
    const chains = this.record.retryChains;
    const find = (kind: 'attempt' | 'timer', id: number | undefined) =>
      Object.entries(chains).find(([, chain]) => chain.waitingOn.kind === kind && chain.waitingOn.id === id);

    if (delivered.EventType === EventType.TaskCompleted) {
      const found = find('attempt', delivered.TaskScheduledId);
      if (found) delete chains[Number(found[0])];
    } else if (delivered.EventType === EventType.TaskFailed) {
      const found = find('attempt', delivered.TaskScheduledId);
      if (found) this.armRetryTimer(Number(found[0]), found[1]);
    } else if (delivered.EventType === EventType.TimerFired) {
      const found = find('timer', delivered.TimerId);
      if (!found) return;
      const [chainId, chain] = found;
      if (attemptsRemain(chain.policy, chain.failures)) this.reschedule(Number(chainId), chain);
      else delete chains[Number(chainId)];
    }
  }

  /**
   * After every failure a timer the SDK waits on: the backoff if attempts remain; after the last
   * one DurableTask.Core's RetryInterceptor creates a timer due at once ("Dummy timer for
   * back-compat"), and the task fails when it fires.
   */
  private armRetryTimer(chainId: number, chain: RetryChain): void {
    chain.failures += 1;
    const timerId = this.takeTaskId();
    const delay = attemptsRemain(chain.policy, chain.failures) ? retryDelayMs(chain.policy, chain.failures) : 0;
    const fireAt = new Date(this.at.getTime() + delay).toISOString();
    this.appended.push(events.timerCreated(this.at, timerId, fireAt));
    this.addTimer({ timerId, fireAt, chainId });
    chain.waitingOn = { kind: 'timer', id: timerId };
  }

  private reschedule(chainId: number, chain: RetryChain): void {
    const taskId = this.takeTaskId();
    this.appended.push(events.taskScheduled(this.at, taskId, chain.activityName, chain.inputJson));
    this.addActivity({
      taskId,
      activityName: chain.activityName,
      inputJson: chain.inputJson,
      attempt: chain.failures + 1,
      deliveries: 0,
      chainId,
    });
    chain.waitingOn = { kind: 'attempt', id: taskId };
  }

  /**
   * A replay must reproduce the actions already acted on, in order; otherwise the orchestrator
   * code is not deterministic (or changed under a running instance) and the ids no longer match.
   */
  checkDeterminism(actions: SdkAction[]): string | undefined {
    const known = this.record.actionLog;
    for (let index = 0; index < known.length; index++) {
      const now = actions[index] ? signatureOf(actions[index]) : 'nothing';
      if (now !== known[index]) {
        return `Non-deterministic orchestrator: its action #${index + 1} was ${known[index]} and on replay is ${now}`;
      }
    }
    return undefined;
  }

  checkSupported(actions: SdkAction[]): string | undefined {
    const unsupported = actions.slice(this.record.actionLog.length).map(unsupportedAction).find(Boolean);
    return unsupported && `The orchestrator used ${unsupported}, which this local engine does not support`;
  }

  schedule(actions: SdkAction[]): void {
    for (let index = this.record.actionLog.length; index < actions.length; index++) {
      const action = actions[index];
      this.record.actionLog.push(signatureOf(action));
      if (!takesTaskId(action)) continue;
      const taskId = this.takeTaskId();
      if (action.actionType === ActionType.CreateTimer) this.createTimer(index, taskId, action);
      else this.scheduleActivity(taskId, action);
    }
    this.cancelTimers(actions);
    this.record.status = 'Running';
  }

  private scheduleActivity(taskId: number, action: SdkAction): void {
    const activityName = String(action.functionName);
    const input = activityInputOf(action);
    // Serialized now: the activity must see the input as it was when scheduled.
    const inputJson = input === undefined ? undefined : toJsonText(input);
    this.appended.push(events.taskScheduled(this.at, taskId, activityName, inputJson));
    const pending: PendingActivity = { taskId, activityName, inputJson, attempt: 1, deliveries: 0 };
    if (action.actionType === ActionType.CallActivityWithRetry) {
      this.record.retryChains[taskId] = {
        activityName,
        inputJson,
        policy: retryPolicyOf(action.retryOptions),
        failures: 0,
        waitingOn: { kind: 'attempt', id: taskId },
      };
      pending.chainId = taskId;
    }
    this.addActivity(pending);
  }

  /**
   * A timer longer than the provider's maximum is a chain, as DurableOrchestrationContext
   * .CreateTimer runs it: intervals of 3 days until less than that remains, then the rest. The
   * SDK's LongTimerTask takes an id for each next timer of the chain as the previous one fires.
   */
  private createTimer(index: number, timerId: number, action: SdkAction): void {
    const finalFireAt = new Date(action.fireAt ?? this.at).getTime();
    const long = finalFireAt - this.at.getTime() > MAXIMUM_SHORT_TIMER_MS;
    const fireAt = new Date(long ? this.at.getTime() + LONG_RUNNING_TIMER_INTERVAL_MS : finalFireAt).toISOString();
    this.appended.push(events.timerCreated(this.at, timerId, fireAt));
    this.record.timerIdsByAction[index] = timerId;
    if (long)
      this.timerChains()[timerId] = {
        finalFireAt: new Date(finalFireAt).toISOString(),
        actionIndex: index,
        cancelled: action.isCanceled === true,
      };
    this.addTimer({ timerId, fireAt });
  }

  private timerChains(): Record<number, TimerChain> {
    return (this.record.timerChains ??= {});
  }

  private followTimerChain(firedId: number): void {
    const chain = this.timerChains()[firedId];
    if (!chain) return;
    delete this.timerChains()[firedId];
    const remaining = Date.parse(chain.finalFireAt) - this.at.getTime();
    if (remaining <= 0) return;
    const timerId = this.takeTaskId();
    // The SDK's LongTimerTask takes the id even when cancelled; the extension schedules nothing.
    if (chain.cancelled) return;
    const fireAt = new Date(this.at.getTime() + Math.min(remaining, LONG_RUNNING_TIMER_INTERVAL_MS)).toISOString();
    this.appended.push(events.timerCreated(this.at, timerId, fireAt));
    this.record.timerIdsByAction[chain.actionIndex] = timerId;
    this.timerChains()[timerId] = chain;
    this.addTimer({ timerId, fireAt });
  }

  /**
   * `timer.cancel()` flips `isCanceled` on the action. The extension's shim then cancels the
   * .NET task only (OutOfProcOrchestrationShim: `cts.Cancel()`): the DTFx timer stays scheduled
   * and its TimerFired still reaches the orchestrator, which ignores it. A cancelled long timer
   * ends its chain once the timer in flight fires.
   */
  private cancelTimers(actions: SdkAction[]): void {
    for (const [index, timerId] of Object.entries(this.record.timerIdsByAction)) {
      const chain = this.timerChains()[timerId];
      if (actions[Number(index)]?.isCanceled && chain) chain.cancelled = true;
    }
  }

  complete(output: unknown): void {
    this.record.output = jsonSafe(output);
    this.finish('Completed', events.executionCompleted(this.at, 'Completed', toJsonText(this.record.output)));
  }

  fail(message: string, stack?: string): void {
    const errorType = stack?.match(/^([\w$.]+): /)?.[1] ?? 'Error';
    this.failWithOutput(`Orchestrator function '${this.record.name}' failed: ${message}`, {
      ErrorType: errorType,
      ErrorMessage: message,
      StackTrace: stack,
    });
  }

  /**
   * A custom status over the limit: the shim's ArgumentException faults the orchestration before
   * it replays, so DurableTask.Core finds the first task or timer of earlier episodes unscheduled
   * (TaskOrchestrationContext.HandleTaskScheduledEvent / HandleTimerCreatedEvent) and fails the
   * instance as non-deterministic. Only when the history holds none (the first episode) does the
   * status's own error reach the output.
   */
  failOnStatusTooLarge(message: string): void {
    const earlier = this.record.history.find(
      (event) => event.EventType === EventType.TaskScheduled || event.EventType === EventType.TimerCreated,
    );
    if (!earlier) return this.fail(message, `System.ArgumentException: ${message}`);
    const what =
      earlier.EventType === EventType.TaskScheduled
        ? `an activity task with sequence ID ${earlier.EventId} and name '${earlier.Name}' (version ''), but the current replay execution hasn't (yet?) scheduled this task.`
        : `a timer task with sequence number ${earlier.EventId} but the current replay execution hasn't (yet?) scheduled this task.`;
    const output = `Non-Deterministic workflow detected: A previous execution of this orchestration scheduled ${what} Was a change made to the orchestrator code after this instance had already started running?`;
    this.failWithOutput(output, {
      ErrorType: 'DurableTask.Core.Exceptions.NonDeterministicOrchestrationException',
      ErrorMessage: output,
    });
  }

  private failWithOutput(output: string, failure: { ErrorType: string; ErrorMessage: string; StackTrace?: string }) {
    this.record.output = output;
    this.finish('Failed', events.executionCompleted(this.at, 'Failed', toJsonText(output), failure));
  }

  /** A finished instance keeps its history; its outstanding work is dropped. */
  private finish(status: 'Completed' | 'Failed', completed: HistoryEvent): void {
    this.record.status = status;
    this.effects.cancelledTimers.push(...Object.keys(this.record.pendingTimers).map(Number));
    this.effects.activities = [];
    this.effects.timers = [];
    Object.assign(this.record, {
      pendingActivities: {},
      pendingTimers: {},
      retryChains: {},
      timerChains: {},
      inbox: [],
    });
    this.appended.push(completed, events.orchestratorCompleted(this.at));
  }

  private addActivity(pending: PendingActivity): void {
    this.record.pendingActivities[pending.taskId] = pending;
    this.effects.activities.push(pending);
  }

  private addTimer(timer: PendingTimer): void {
    this.record.pendingTimers[timer.timerId] = timer;
    this.effects.timers.push(timer);
  }
}

function signatureOf(action: SdkAction): string {
  const name = action.functionName ?? action.externalEventName;
  return name
    ? `${ActionType[action.actionType]}(${name})`
    : (ActionType[action.actionType] ?? String(action.actionType));
}

/** What a JSON store would keep of a value; undefined becomes null, as in a status payload. */
function jsonSafe(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(toJsonText(value));
}
