/**
 * Everything the engine knows about an orchestration instance lives in one plain, JSON-safe
 * record. Nothing else survives a restart, so a file-backed store plus `Engine.recover()` can
 * resume work: an activity is persisted as pending before it is dispatched, a timer before it
 * is armed.
 */
import type { HistoryEvent } from './history';

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated';

export const TERMINAL_STATUSES: readonly RuntimeStatus[] = ['Completed', 'Failed', 'Terminated'];

export function isTerminal(status: RuntimeStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Options of `callActivityWithRetry`, as the SDK's RetryOptions carries them. */
export interface RetryPolicy {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** One `callActivityWithRetry`: its attempts so far and the task id the SDK waits on now. */
export interface RetryChain {
  activityName: string;
  inputJson: string | undefined;
  policy: RetryPolicy;
  failures: number;
  /** The id of the attempt in flight, or of the retry timer while waiting to retry. */
  waitingOn: { kind: 'attempt' | 'timer'; id: number };
}

/** A timer longer than the provider's maximum: the chain's final time and its action. */
export interface TimerChain {
  finalFireAt: string;
  actionIndex: number;
  /** Set by `timer.cancel()`: the timer in flight still fires, no further one is created. */
  cancelled?: boolean;
}

export interface PendingActivity {
  taskId: number;
  activityName: string;
  inputJson: string | undefined;
  /** 1 for the first attempt of a retried activity, 2 for its first retry, … */
  attempt: number;
  /** How often the host has handed this very task to a worker (crash recovery re-runs it). */
  deliveries: number;
  /** Set when the task belongs to a retry chain (keyed by the chain's first task id). */
  chainId?: number;
}

export interface PendingTimer {
  timerId: number;
  fireAt: string;
  chainId?: number;
}

export interface InstanceRecord {
  instanceId: string;
  /** Changes when an instance id is reused, so stale work of the old execution is discarded. */
  executionId: string;
  name: string;
  status: RuntimeStatus;
  inputJson: string | undefined;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  history: HistoryEvent[];
  /** Events waiting for an episode; an episode delivers all of them (see nextBatch). */
  inbox: HistoryEvent[];
  /** Mirrors the SDK's task id counter (`sequenceNumber`). */
  nextTaskId: number;
  /**
   * One entry per (flattened) action of the SDK's list acted on so far, e.g. `CallActivity(pay)`.
   * Its length tells new actions from replayed ones; its entries catch non-deterministic replays.
   */
  actionLog: string[];
  /** Task id of each CreateTimer action, by its index in the flattened action list. */
  timerIdsByAction: Record<number, number>;
  pendingActivities: Record<number, PendingActivity>;
  pendingTimers: Record<number, PendingTimer>;
  retryChains: Record<number, RetryChain>;
  /** Long timers, keyed by the id of the chain's timer in flight (absent in older records). */
  timerChains?: Record<number, TimerChain>;
}

/** What a store knows of an instance without parsing its record: enough to filter a list. */
export type InstanceSummary = Pick<InstanceRecord, 'instanceId' | 'name' | 'status' | 'createdTime'>;

/** Synchronous on purpose: a check-then-create (start with a fixed id) must not interleave. */
export interface InstanceStore {
  get(instanceId: string): InstanceRecord | undefined;
  put(record: InstanceRecord): void;
  delete(instanceId: string): boolean;
  /** The records whose summary passes `where` (default: all); only those are parsed. */
  list(where?: (summary: InstanceSummary) => boolean): InstanceRecord[];
  /** The record without its history, if the store can read that alone (a status read needs no more). */
  getWithoutHistory?(instanceId: string): Omit<InstanceRecord, 'history'> | undefined;
  /**
   * Resolves once every change so far is durable (a store that writes in the background);
   * absent: every change is as durable as the store will make it when put returns.
   */
  flushed?(): Promise<void>;
}

/**
 * Keeps serialized copies, never live objects: a change the engine forgets to `put` is lost here
 * exactly as it would be with a file-backed store.
 */
export class MemoryInstanceStore implements InstanceStore {
  private readonly records = new Map<string, string>();

  get(instanceId: string): InstanceRecord | undefined {
    const text = this.records.get(instanceId);
    return text === undefined ? undefined : (JSON.parse(text) as InstanceRecord);
  }

  put(record: InstanceRecord): void {
    this.records.set(record.instanceId, JSON.stringify(record));
  }

  delete(instanceId: string): boolean {
    return this.records.delete(instanceId);
  }

  list(where?: (summary: InstanceSummary) => boolean): InstanceRecord[] {
    return [...this.records.keys()]
      .map((id) => this.get(id))
      .filter((record): record is InstanceRecord => record !== undefined && (!where || where(record)));
  }
}
