/**
 * Turns one episode's outcome into changes of the instance record: history, new tasks and
 * timers, retries, completion. Pure bookkeeping; the engine persists the record and only then
 * dispatches the work listed in the returned effects.
 */
import { ActionType, activityInputOf, flattenActions, takesTaskId, unsupportedAction, type SdkAction } from './actions';
import type { EpisodeOutcome } from './episode';
import { EventType, events, toJsonText, type HistoryEvent } from './history';
import { attemptsRemain, retryDelayMs, retryPolicyOf } from './retries';
import type { InstanceRecord, PendingActivity, PendingTimer, RetryChain } from './store';

export interface EpisodeEffects {
  activities: PendingActivity[];
  timers: PendingTimer[];
  cancelledTimers: number[];
}

export function applyEpisode(record: InstanceRecord, delivered: HistoryEvent, startedAt: Date, outcome: EpisodeOutcome): EpisodeEffects {
  const effects: EpisodeEffects = { activities: [], timers: [], cancelledTimers: [] };
  const appended: HistoryEvent[] = [events.orchestratorStarted(startedAt), delivered];
  const bookkeeping = new Bookkeeping(record, startedAt, appended, effects);

  // The SDK takes retry ids while it processes the delivered event, before resuming user code.
  bookkeeping.followRetries(delivered);

  if (!outcome.ok) {
    if (outcome.state && 'customStatus' in outcome.state) record.customStatus = jsonSafe(outcome.state.customStatus);
    bookkeeping.fail(outcome.message, outcome.stack);
  } else {
    const { state } = outcome;
    record.customStatus = jsonSafe(state.customStatus);
    const actions = flattenActions(state.actions);
    const problem = bookkeeping.checkDeterminism(actions) ?? (state.isDone ? undefined : bookkeeping.checkSupported(actions));
    if (problem) bookkeeping.fail(problem);
    else if (state.isDone) bookkeeping.complete(state.output);
    else bookkeeping.schedule(actions);
  }

  if (record.status !== 'Completed' && record.status !== 'Failed') appended.push(events.orchestratorCompleted(startedAt));
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

  followRetries(delivered: HistoryEvent): void {
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

  /** After every failure, the last included: the SDK waits for this timer either way. */
  private armRetryTimer(chainId: number, chain: RetryChain): void {
    chain.failures += 1;
    const timerId = this.takeTaskId();
    const fireAt = new Date(this.at.getTime() + retryDelayMs(chain.policy, chain.failures)).toISOString();
    this.appended.push(events.timerCreated(this.at, timerId, fireAt));
    this.addTimer({ timerId, fireAt, chainId });
    chain.waitingOn = { kind: 'timer', id: timerId };
  }

  private reschedule(chainId: number, chain: RetryChain): void {
    const taskId = this.takeTaskId();
    this.appended.push(events.taskScheduled(this.at, taskId, chain.activityName, chain.inputJson));
    this.addActivity({ taskId, activityName: chain.activityName, inputJson: chain.inputJson, attempt: chain.failures + 1, deliveries: 0, chainId });
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
      this.record.retryChains[taskId] = { activityName, inputJson, policy: retryPolicyOf(action.retryOptions), failures: 0, waitingOn: { kind: 'attempt', id: taskId } };
      pending.chainId = taskId;
    }
    this.addActivity(pending);
  }

  private createTimer(index: number, timerId: number, action: SdkAction): void {
    const fireAt = new Date(action.fireAt ?? this.at).toISOString();
    this.appended.push(events.timerCreated(this.at, timerId, fireAt));
    this.record.timerIdsByAction[index] = timerId;
    if (!action.isCanceled) this.addTimer({ timerId, fireAt });
  }

  /** `timer.cancel()` flips `isCanceled` on the action; a cancelled timer must not fire. */
  private cancelTimers(actions: SdkAction[]): void {
    for (const [index, timerId] of Object.entries(this.record.timerIdsByAction)) {
      if (actions[Number(index)]?.isCanceled && this.record.pendingTimers[timerId]) {
        delete this.record.pendingTimers[timerId];
        this.effects.cancelledTimers.push(timerId);
      }
    }
  }

  complete(output: unknown): void {
    this.record.output = jsonSafe(output);
    this.finish('Completed', events.executionCompleted(this.at, 'Completed', toJsonText(this.record.output)));
  }

  fail(message: string, stack?: string): void {
    const errorType = stack?.match(/^([\w$.]+): /)?.[1] ?? 'Error';
    this.record.output = `Orchestrator function '${this.record.name}' failed: ${message}`;
    const failure = { ErrorType: errorType, ErrorMessage: message, StackTrace: stack };
    this.finish('Failed', events.executionCompleted(this.at, 'Failed', toJsonText(this.record.output), failure));
  }

  /** A finished instance keeps its history; its outstanding work is dropped. */
  private finish(status: 'Completed' | 'Failed', completed: HistoryEvent): void {
    this.record.status = status;
    this.effects.cancelledTimers.push(...Object.keys(this.record.pendingTimers).map(Number));
    this.effects.activities = [];
    this.effects.timers = [];
    Object.assign(this.record, { pendingActivities: {}, pendingTimers: {}, retryChains: {}, inbox: [] });
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
  return name ? `${ActionType[action.actionType]}(${name})` : (ActionType[action.actionType] ?? String(action.actionType));
}

/** What a JSON store would keep of a value; undefined becomes null, as in a status payload. */
function jsonSafe(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(toJsonText(value));
}
