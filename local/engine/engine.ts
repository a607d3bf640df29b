/**
 * The durable engine: plays the Durable extension's part for the real durable-functions SDK.
 *
 * Per instance, episodes run one at a time and each delivers the events waiting in the inbox,
 * as the extension delivers a batch (apply-episode.ts nextBatch says where a batch is cut). Activities run concurrently; their results, timer firings and raised
 * events queue in the instance's inbox. All state is in the instance record behind the store.
 */
import { randomUUID } from 'node:crypto';
import { ActivityRunner, type ActivityOutcome, type FaultInjector } from './activities';
import { applyEpisode, nextBatch } from './apply-episode';
import { ArmedTimers } from './armed-timers';
import { RealClock, type Clock } from './clock';
import { ConcurrencyLimit } from './concurrency-limit';
import { runEpisode, type EpisodeOutcome, type LogHandler } from './episode';
import { EventType, events, fromJsonText, toJsonText, type HistoryEvent } from './history';
import type { FunctionRegistry } from './registry';
import {
  MemoryInstanceStore,
  isTerminal,
  type InstanceRecord,
  type InstanceStore,
  type PendingActivity,
  type PendingTimer,
  type RuntimeStatus,
} from './store';
import { advanceTime, settle, waitUntilIdle } from './time-control';
import { WorkTracker } from './work-tracker';

export interface EngineOptions {
  registry: FunctionRegistry;
  clock?: Clock;
  store?: InstanceStore;
  /** Like host.json's maxConcurrentActivityFunctions; unlimited when absent. */
  maxConcurrentActivities?: number;
  /** Like host.json's maxConcurrentOrchestratorFunctions (episodes at once); unlimited when absent. */
  maxConcurrentOrchestrations?: number;
  faults?: FaultInjector;
  /** Receives the app's `context.log` output; silent when absent. */
  log?: LogHandler;
}

export interface InstanceStatus {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  history?: HistoryEvent[];
}

export type EngineErrorCode = 'conflict' | 'invalid-instance-id' | 'stopped';

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The answer to an operation on an existing instance. */
export type InstanceOperationResult = 'accepted' | 'notFound' | 'notRunning';

/** DurableClient.StartNewAsync rejects these ids: a leading @, path and query separators, control characters, over 256 characters. */
function isValidInstanceId(id: string): boolean {
  return (
    id.length > 0 &&
    id.length <= 256 &&
    !id.startsWith('@') &&
    ![...id].some((char) => '/\\#?'.includes(char) || char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f)
  );
}

export class Engine {
  readonly registry: FunctionRegistry;
  readonly clock: Clock;
  readonly store: InstanceStore;
  private readonly work = new WorkTracker();
  private readonly activities: ActivityRunner;
  private readonly log?: LogHandler;
  private readonly draining = new Set<string>();
  /** Instances whose episode is running: a terminate then waits for it (see terminate). */
  private readonly playing = new Set<string>();
  private readonly timers: ArmedTimers;
  private readonly listeners = new Set<(instanceId: string) => void>();
  private readonly episodeSlots?: ConcurrencyLimit;
  /**
   * The records of running instances as this engine last stored them, parsed: the engine is its
   * store's only writer, and stores every change the moment it makes it, so these equal the
   * store's copies. Its own reads (an activity result, an episode) then cost no parse of the
   * whole record, history included. Reads for callers (status, lists) still get the store's
   * copies. Dropped when an instance ends, when a change fails, and when the engine stops.
   */
  private readonly live = new Map<string, InstanceRecord>();
  private stopped = false;
  /** Set by shutdown(): nothing new starts, what runs may finish and is stored. */
  private closing = false;

  constructor(options: EngineOptions) {
    this.registry = options.registry;
    this.clock = options.clock ?? new RealClock();
    this.store = options.store ?? new MemoryInstanceStore();
    this.log = options.log;
    this.timers = new ArmedTimers(this.clock);
    if (options.maxConcurrentOrchestrations !== undefined)
      this.episodeSlots = new ConcurrencyLimit(options.maxConcurrentOrchestrations);
    this.activities = new ActivityRunner(this.registry, this.clock, this.work, {
      maxConcurrent: options.maxConcurrentActivities,
      faults: options.faults,
      log: options.log,
    });
  }

  // ---- management operations -------------------------------------------------------------

  /**
   * Starts an instance. An instance with this id that is Pending or Running is not overridden:
   * EngineError 'conflict' (the extension's OrchestrationAlreadyExistsException, from its default
   * OverridableExistingInstanceStates NonRunningStates); a finished one is replaced. An unknown
   * orchestrator name is accepted, as the extension's HTTP start path accepts it: the instance
   * fails on its first episode.
   */
  startNew(name: string, options: { instanceId?: string; input?: unknown } = {}): string {
    if (this.stopped) throw new EngineError('stopped', 'The engine is stopped');
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    if (!isValidInstanceId(instanceId)) {
      throw new EngineError(
        'invalid-instance-id',
        `Invalid instance id '${instanceId}': 1-256 characters, not starting with @, none of / \\ # ? or control characters`,
      );
    }
    // No await between this check and the put: two concurrent starts cannot both pass it.
    const existing = this.load(instanceId);
    if (existing && !isTerminal(existing.status))
      throw new EngineError('conflict', `An Orchestration instance with the status ${existing.status} already exists.`);
    const now = this.now();
    const inputJson = options.input === undefined ? undefined : toJsonText(options.input);
    const record: InstanceRecord = {
      instanceId,
      executionId: randomUUID(),
      name,
      status: 'Pending',
      inputJson,
      output: null,
      customStatus: null,
      createdTime: now.toISOString(),
      lastUpdatedTime: now.toISOString(),
      history: [],
      inbox: [events.executionStarted(now, name, inputJson)],
      nextTaskId: 0,
      actionLog: [],
      timerIdsByAction: {},
      pendingActivities: {},
      pendingTimers: {},
      retryChains: {},
      timerChains: {},
    };
    this.save(record);
    this.changed(instanceId);
    this.kick(instanceId);
    return instanceId;
  }

  /** Queues an external event. Events raised before the orchestrator waits are kept by the SDK. */
  raiseEvent(instanceId: string, eventName: string, data?: unknown): InstanceOperationResult {
    const record = this.load(instanceId);
    if (!record) return 'notFound';
    if (isTerminal(record.status) || this.stopped) return 'notRunning';
    record.inbox.push(events.eventRaised(this.now(), eventName, data === undefined ? undefined : toJsonText(data)));
    this.save(record);
    this.changed(instanceId);
    this.kick(instanceId);
    return 'accepted';
  }

  /**
   * Ends an instance: its timers are dropped, and no episode runs after the one that takes the
   * terminate. As on the extension, where terminate is a message on the instance's control queue,
   * events already waiting for the instance (or an episode running) are played first: what they
   * lead the orchestrator to schedule is still scheduled, in the episode that ends the instance.
   * With nothing waiting it ends at once. The activities it had scheduled still run (started or
   * not, and again after a crash, as the extension's activity messages stay on the work-item
   * queue, which looks at no instance's status); their results are ignored.
   */
  terminate(instanceId: string, reason = ''): InstanceOperationResult {
    const record = this.load(instanceId);
    if (!record) return 'notFound';
    if (isTerminal(record.status) || this.stopped) return 'notRunning';
    const terminated = events.executionTerminated(this.now(), reason);
    if (record.inbox.length === 0 && !this.playing.has(instanceId)) {
      this.end(record, terminated);
    } else if (!record.inbox.some((event) => event.EventType === EventType.ExecutionTerminated)) {
      record.inbox.push(terminated);
      this.kick(instanceId);
    }
    this.save(record);
    this.changed(instanceId);
    return 'accepted';
  }

  /** Ends a running instance as Terminated (the record is saved by the caller). */
  private end(record: InstanceRecord, terminated: HistoryEvent): void {
    this.timers.disarm(record.instanceId);
    Object.assign(record, {
      status: 'Terminated',
      output: terminated.Input ?? '',
      // Events queued after the terminate are for a finished instance.
      inbox: [],
      pendingTimers: {},
      retryChains: {},
      timerChains: {},
    });
    record.history.push(terminated);
    record.lastUpdatedTime = this.now().toISOString();
  }

  /** Deletes an instance and its history, whatever its state. */
  purge(instanceId: string): boolean {
    this.timers.disarm(instanceId);
    this.live.delete(instanceId);
    const deleted = this.store.delete(instanceId);
    if (deleted) this.changed(instanceId);
    return deleted;
  }

  getStatus(instanceId: string, options: { showHistory?: boolean } = {}): InstanceStatus | undefined {
    if (options.showHistory) {
      const record = this.store.get(instanceId);
      return record && statusOf(record, record.history);
    }
    // The status polls: a running order's history is most of its record, and they do not show it.
    const record = this.store.getWithoutHistory ? this.store.getWithoutHistory(instanceId) : this.store.get(instanceId);
    return record && statusOf(record);
  }

  listInstances(
    filter: { runtimeStatus?: RuntimeStatus[]; createdTimeFrom?: Date; createdTimeTo?: Date } = {},
  ): InstanceStatus[] {
    // Filtered on the store's summaries: only the records listed are parsed.
    const from = filter.createdTimeFrom?.getTime();
    const to = filter.createdTimeTo?.getTime();
    return this.store
      .list(
        (summary) =>
          (!filter.runtimeStatus?.length || filter.runtimeStatus.includes(summary.status)) &&
          (from === undefined || Date.parse(summary.createdTime) >= from) &&
          (to === undefined || Date.parse(summary.createdTime) <= to),
      )
      .map((record) => statusOf(record));
  }

  // ---- waiting and time ------------------------------------------------------------------

  /** Resolves once no episode or activity is running (work waiting for the clock does not count). */
  idle(): Promise<void> {
    return waitUntilIdle(this.work, this.clock);
  }

  /** Moves a virtual clock forward, letting the engine react to each timer as it comes due. */
  advanceTime(ms: number): Promise<void> {
    return advanceTime(this.work, this.clock, ms);
  }

  /**
   * Runs until nothing is runnable: every instance has finished or waits for an external event
   * or a timer. With `fastForward`, a virtual clock is moved to each next due timer in turn.
   */
  settle(options: { fastForward?: boolean; maxSteps?: number } = {}): Promise<void> {
    return settle(this.work, this.clock, options);
  }

  /** Resolves with the instance's status once `predicate` holds for it. */
  waitFor(
    instanceId: string,
    predicate: (status: InstanceStatus) => boolean,
    options: { timeoutMs?: number } = {},
  ): Promise<InstanceStatus> {
    return new Promise((resolve, reject) => {
      const check = (changedId: string) => {
        if (changedId !== instanceId) return;
        const status = this.getStatus(instanceId);
        if (status && predicate(status)) finish(() => resolve(status));
      };
      const timeout = setTimeout(() => {
        const last = this.getStatus(instanceId);
        finish(() =>
          reject(
            new Error(
              `waitFor('${instanceId}') timed out; last status: ${last ? last.runtimeStatus : 'none'} ${JSON.stringify(last?.customStatus ?? null)}`,
            ),
          ),
        );
      }, options.timeoutMs ?? 10_000);
      const finish = (settle: () => void) => {
        clearTimeout(timeout);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check(instanceId);
    });
  }

  onChange(listener: (instanceId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /**
   * Resumes the work a previous engine left in the store: re-runs activities that were
   * scheduled but never recorded, re-arms timers, and drains queued events.
   */
  recover(): void {
    // Terminated ones too: the activities they had scheduled still run (see terminate).
    for (const record of this.store.list((summary) => !isTerminal(summary.status) || summary.status === 'Terminated')) {
      for (const activity of Object.values(record.pendingActivities)) this.dispatch(record, activity);
      if (record.status === 'Terminated') continue;
      for (const timer of Object.values(record.pendingTimers)) this.arm(record, timer);
      if (record.inbox.length > 0) this.kick(record.instanceId);
    }
  }

  /**
   * Stops gracefully: no episode, activity or timer starts any more; the activities and episodes
   * already running may finish for up to `graceMs`, and what they produce is stored (queued
   * results stay in the inbox for recover()). Then stops. Resolves false if the grace ran out.
   */
  async shutdown(graceMs: number): Promise<boolean> {
    if (this.stopped) return true;
    this.closing = true;
    this.timers.disarmAll();
    this.activities.close();
    let timeout: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.work.whenIdle().then(() => true),
      new Promise<boolean>((resolve) => (timeout = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timeout);
    this.stop();
    return finished;
  }

  /** Stops like a crash would: timers are cancelled, results still in flight are discarded. */
  stop(): void {
    this.stopped = true;
    this.timers.disarmAll();
    this.live.clear();
  }

  // ---- episodes --------------------------------------------------------------------------

  private kick(instanceId: string): void {
    if (this.stopped || this.closing || this.draining.has(instanceId)) return;
    this.draining.add(instanceId);
    this.drain(instanceId, this.work.begin()).catch((error) =>
      this.log?.('error', instanceId, 'engine error while draining', error),
    );
  }

  private async drain(instanceId: string, endWork: () => void): Promise<void> {
    try {
      // Let events arriving at the same moment (activities of one Task.all) gather in the inbox,
      // as they would in the extension's queue before it fetches a batch.
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (;;) {
        const release = this.episodeSlots ? await this.episodeSlots.acquire() : undefined;
        try {
          // Read after getting the slot: the wait may have changed the instance.
          const record = this.load(instanceId);
          if (this.stopped || this.closing || !record || isTerminal(record.status) || record.inbox.length === 0) return;
          try {
            await this.runNextEpisode(record);
          } catch (error) {
            // The episode may have changed the record before it failed: start again from the stored one.
            this.live.delete(instanceId);
            this.log?.('error', record.name, `engine error in instance ${instanceId}`, error);
            this.failInstance(
              instanceId,
              record.executionId,
              `Engine error: ${error instanceof Error ? error.message : String(error)}`,
            );
          }
        } finally {
          release?.();
        }
      }
    } finally {
      // Synchronous with the last inbox check above, so no delivered event can be stranded.
      this.draining.delete(instanceId);
      endWork();
    }
  }

  private async runNextEpisode(record: InstanceRecord): Promise<void> {
    const delivered = nextBatch(record);
    // A terminate ends the batch (see nextBatch): the events before it are played, then it ends the instance.
    const terminated = delivered.find((event) => event.EventType === EventType.ExecutionTerminated);
    if (delivered.length === 1 && terminated) {
      record.inbox.splice(0, 1);
      this.end(record, terminated);
      this.save(record);
      this.changed(record.instanceId);
      return;
    }
    const played = terminated ? delivered.slice(0, -1) : delivered;
    const startedAt = this.now();
    const fn = this.registry.orchestrations.get(record.name);
    this.playing.add(record.instanceId);
    let outcome: EpisodeOutcome;
    try {
      outcome = fn
        ? await runEpisode({
            name: fn.name,
            handler: fn.handler,
            options: fn.options,
            instanceId: record.instanceId,
            input: fromJsonText(record.inputJson),
            history: [...record.history, events.orchestratorStarted(startedAt), ...played],
            log: this.log,
          })
        : { ok: false, message: this.unknownOrchestratorMessage(record.name) };
    } finally {
      this.playing.delete(record.instanceId);
    }

    // Re-read: the instance may have been purged or restarted meanwhile (a terminate waits for the episode).
    const fresh = this.load(record.instanceId);
    if (this.stopped || !fresh || fresh.executionId !== record.executionId || isTerminal(fresh.status)) return;
    fresh.inbox.splice(0, delivered.length);
    const effects = applyEpisode(fresh, played, startedAt, outcome);
    if (terminated && !isTerminal(fresh.status)) {
      // What the episode scheduled is sent all the same; its timers are not (they would fire into a finished instance).
      this.end(fresh, terminated);
      effects.timers = [];
    }
    this.save(fresh);
    this.changed(fresh.instanceId);
    // Shutting down: the work is stored as pending, the next host's recover() starts it.
    if (this.closing) return;
    // Persisted first, acted on second: a crash in between is repaired by recover().
    for (const timerId of effects.cancelledTimers) this.timers.disarm(fresh.instanceId, timerId);
    for (const timer of effects.timers) this.arm(fresh, timer);
    for (const activity of effects.activities) this.dispatch(fresh, activity);
  }

  /** DurableTaskExtension.GetInvalidOrchestratorFunctionMessage. */
  private unknownOrchestratorMessage(name: string): string {
    const known = [...this.registry.orchestrations.keys()];
    const info =
      known.length > 0
        ? `The following are the known orchestrator functions: '${known.join("', '")}'.`
        : 'No orchestrator functions are currently registered!';
    return `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function. Additional info: ${info}`;
  }

  private failInstance(instanceId: string, executionId: string, message: string): void {
    const record = this.load(instanceId);
    if (!record || record.executionId !== executionId || isTerminal(record.status)) return;
    const delivered = record.inbox.splice(0, nextBatch(record).length);
    applyEpisode(record, delivered, this.now(), { ok: false, message });
    this.timers.disarm(instanceId);
    this.save(record);
    this.changed(instanceId);
  }

  // ---- activities and timers -------------------------------------------------------------

  private dispatch(record: InstanceRecord, pending: PendingActivity): void {
    if (this.closing) return;
    const { instanceId, executionId } = record;
    const call = {
      instanceId,
      activityName: pending.activityName,
      input: fromJsonText(pending.inputJson),
      taskId: pending.taskId,
      attempt: pending.attempt,
      delivery: pending.deliveries + 1,
    };
    void this.activities
      .run(call)
      .then((outcome) => this.recordActivity(instanceId, executionId, pending, call.delivery, outcome));
  }

  private recordActivity(
    instanceId: string,
    executionId: string,
    pending: PendingActivity,
    delivery: number,
    outcome: ActivityOutcome,
  ): void {
    const taskId = pending.taskId;
    if (outcome.kind === 'lost') {
      // As after a host crash: nothing was recorded, so the same task is handed out again.
      const record = this.stopped || this.closing ? undefined : this.load(instanceId);
      const current = record?.pendingActivities[taskId];
      if (!record || !current || record.executionId !== executionId || !runsActivities(record)) return;
      current.deliveries = delivery;
      this.save(record);
      this.dispatch(record, current);
      return;
    }
    const now = this.now();
    const event =
      outcome.kind === 'completed'
        ? events.taskCompleted(now, taskId, outcome.resultJson)
        : events.taskFailed(now, taskId, outcome.failure);
    this.deliver(instanceId, executionId, event, (record) => takeEntry(record.pendingActivities, taskId));
  }

  private arm(record: InstanceRecord, timer: PendingTimer): void {
    if (this.closing) return;
    const { instanceId, executionId } = record;
    this.timers.arm(instanceId, timer.timerId, Date.parse(timer.fireAt), () => {
      const fired = events.timerFired(this.now(), timer.timerId, timer.fireAt);
      this.deliver(instanceId, executionId, fired, (current) => takeEntry(current.pendingTimers, timer.timerId));
    });
  }

  /**
   * Queues an event for a live execution. `claim` removes the pending entry the event answers
   * and returns false if there is none (a duplicate, or work of a finished execution).
   */
  private deliver(
    instanceId: string,
    executionId: string,
    event: HistoryEvent,
    claim: (record: InstanceRecord) => boolean,
  ): void {
    if (this.stopped) return;
    const record = this.load(instanceId);
    if (!record || record.executionId !== executionId || !runsActivities(record)) return;
    if (!claim(record)) return;
    if (isTerminal(record.status)) {
      // A terminated instance's activity is done with: its result goes nowhere.
      this.save(record);
      return;
    }
    record.inbox.push(event);
    this.save(record);
    this.changed(instanceId);
    this.kick(instanceId);
  }

  // ---- helpers ---------------------------------------------------------------------------

  /** The instance's record for a change by this engine: the live one, else the store's. */
  private load(instanceId: string): InstanceRecord | undefined {
    const live = this.live.get(instanceId);
    if (live) return live;
    const stored = this.store.get(instanceId);
    if (stored && !isTerminal(stored.status) && !this.stopped) this.live.set(instanceId, stored);
    return stored;
  }

  /** Stores a change; the record stays live while its instance runs. */
  private save(record: InstanceRecord): void {
    try {
      this.store.put(record);
    } catch (error) {
      this.live.delete(record.instanceId);
      throw error;
    }
    if (isTerminal(record.status) || this.stopped) this.live.delete(record.instanceId);
    else this.live.set(record.instanceId, record);
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  private changed(instanceId: string): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(instanceId);
      } catch (error) {
        // A watcher's fault (e.g. a throwing waitFor predicate) must not break an episode.
        this.log?.('error', instanceId, 'change listener threw', error);
      }
    }
  }
}

/** Whether the instance's scheduled activities are still run: while it runs, and once terminated (see terminate). */
function runsActivities(record: InstanceRecord): boolean {
  return !isTerminal(record.status) || record.status === 'Terminated';
}

/** Removes `key` from `entries`; false if it was not there (the event answers nothing pending). */
function takeEntry(entries: Record<number, unknown>, key: number): boolean {
  if (!(key in entries)) return false;
  delete entries[key];
  return true;
}

function statusOf(record: Omit<InstanceRecord, 'history'>, history?: HistoryEvent[]): InstanceStatus {
  return {
    name: record.name,
    instanceId: record.instanceId,
    runtimeStatus: record.status,
    input: fromJsonText(record.inputJson) ?? null,
    output: record.output ?? null,
    customStatus: record.customStatus ?? null,
    createdTime: record.createdTime,
    lastUpdatedTime: record.lastUpdatedTime,
    ...(history ? { history } : {}),
  };
}
