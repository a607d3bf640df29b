/**
 * The saga helper behind the placeOrder orchestration: it keeps the step log, remembers how to
 * undo each step once that step has succeeded, and on failure undoes them in reverse order.
 *
 * Everything here runs inside the orchestrator, so it obeys the orchestrator's rules: time comes
 * from `currentUtcDateTime`, and every effect is a durable task.
 */
import type * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { failureText } from '../../libs/errors';
import { OrdersActivities } from './contract';
import type { DeadLetter, FailedCompensation } from './dead-letters';
import { isTimeout, type CompensationEntry, type CompensationName, type FinalStatus, type OrderStatus, type OrderView, type StandingDecision, type StepEntry, type StepName } from './order-view';
import { RetryPolicies } from './retry-policies';

/** What a generator step yields to the durable runtime and gets back. */
export type Durable<T> = Generator<Task, T, unknown>;

/** A business rule ended the order (declined card, no stock, …): the answer, not a fault. */
export class BusinessRejection extends Error {
  constructor(readonly step: StepName, reason: string) {
    super(reason);
  }
}

/** A step's transient fault outlasted its retry policy. */
export class StepFault extends Error {
  constructor(readonly step: StepName, reason: string) {
    super(reason);
  }
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

/** How to undo one step. */
export interface Compensation {
  name: CompensationName;
  /** The activity and its input, kept so that a person can run it again from the dead-letter queue. */
  activity: string;
  input: unknown;
  start: () => Task;
  /** Reads the compensation's answer: false when there turned out to be nothing to undo. */
  undid: (result: unknown) => boolean;
}

export class OrderSaga {
  readonly view: OrderView;
  private readonly compensations: Compensation[] = [];
  /** Orders the order document's writes, so a stale duplicate can never overwrite a newer state. */
  private revision = 0;
  /** Progress writes scheduled by `moveTo`, not yet waited for. */
  private readonly progressWrites: { status: OrderStatus; task: Task }[] = [];

  constructor(
    private readonly context: OrchestrationContext,
    ids: { orderId: string; correlationId: string },
    currency: OrderView['currency'],
  ) {
    this.view = { ...ids, status: 'Pending', total: null, currency, steps: [], compensations: [], warnings: [] };
    this.publish();
  }

  /** Schedules an activity with its retry policy. Retries happen in the host, between replays. */
  call(activity: string, policy: df.RetryOptions, input: unknown): Task {
    return this.context.df.callActivityWithRetry(activity, policy, input);
  }

  /**
   * Runs one step to its result. An activity that exhausted its retries becomes a StepFault; since
   * it may have done part of its work before failing, its `undo` is registered all the same
   * (every compensation is idempotent and says when there was nothing to undo).
   */
  *step<T>(name: StepName, task: Task, options: { undo?: Compensation } = {}): Durable<T> {
    const entry = this.begin(name);
    try {
      const result = (yield* this.settle(task)) as T;
      this.mark(entry, 'succeeded');
      return result;
    } catch (error) {
      this.mark(entry, 'failed', failureText(error));
      if (options.undo) this.onUndo(options.undo);
      throw new StepFault(name, failureText(error));
    }
  }

  /** Ends the saga for a business reason given by a step that ran. */
  reject(name: StepName, reason: string): never {
    const entry = this.lastEntry(name);
    if (entry) this.mark(entry, 'failed', reason);
    throw new BusinessRejection(name, reason);
  }

  /** Ends the saga for a transient fault that outlasted its retries. */
  fault(name: StepName, reason: string): never {
    throw new StepFault(name, reason);
  }

  /** Records how to undo a step that did (or may have done) its work, should a later step fail. */
  onUndo(compensation: Compensation): void {
    this.compensations.push(compensation);
    // Published, so that an operator who terminates the saga knows what it leaves to undo.
    this.view.undoable = this.compensations.map((entry) => entry.name);
    this.publish();
  }

  /** A non-critical step failed: the order goes on, and the failure stays visible on it. */
  warn(name: StepName, message: string): void {
    const entry = this.lastEntry(name);
    if (entry) this.mark(entry, 'warning', message);
    this.view.warnings.push(`${name}: ${message}`);
    this.publish();
  }

  priced(total: number): void {
    this.view.total = total;
    this.publish();
  }

  /**
   * Starts the given branches together and waits for every one of them to settle.
   * `Task.all` alone would fail fast on the first failure and hide which other branches
   * succeeded - and those are exactly the ones that must be undone.
   */
  *parallel<T extends unknown[]>(branches: { [K in keyof T]: [StepName, Task] }): Durable<{ [K in keyof T]: Outcome<T[K]> }> {
    const entries = branches.map(([name]) => this.begin(name));
    const tasks = branches.map(([, task]) => task);
    yield* this.settleAll(tasks);
    return tasks.map((task, index) => {
      if (task.isCompleted) {
        this.mark(entries[index], 'succeeded');
        return { ok: true, value: task.result };
      }
      const error = failureText(task.result);
      this.mark(entries[index], 'failed', error);
      return { ok: false, error };
    }) as { [K in keyof T]: Outcome<T[K]> };
  }

  /**
   * Waits for a person's decision, raced against a durable timer: the order shows AwaitingApproval
   * and its deadline. Only an event `accept` makes sense of is a decision; anything else raised
   * on the instance (a malformed or empty body, through the management API) is no decision, and
   * the wait goes on until the same deadline.
   */
  *awaitDecision<D>(name: StepName, eventName: string, timeoutMs: number, accept: (event: unknown) => D | undefined): Durable<{ decision: D } | { timedOut: true; deadline: string }> {
    const deadline = new Date(this.context.df.currentUtcDateTime.getTime() + timeoutMs);
    this.view.approval = { deadline: deadline.toISOString() };
    yield* this.moveTo('AwaitingApproval');
    // A person is about to wait: the order document must say so first.
    yield* this.settleAll([]);
    this.begin(name);
    // A fresh timer (same deadline) for each wait: a task yielded again in a second Task.any is
    // scheduled again by the SDK (azure-functions-durable-js#574), so no task is reused.
    const timers: df.TimerTask[] = [];
    for (;;) {
      const timeout = this.context.df.createTimer(deadline);
      timers.push(timeout);
      const event = this.context.df.waitForExternalEvent(eventName);
      const winner = yield this.context.df.Task.any([event, timeout]);
      if (winner !== event) return { timedOut: true, deadline: deadline.toISOString() };
      const decision = accept(event.result);
      if (decision !== undefined) {
        for (const timer of timers) timer.cancel();
        return { decision };
      }
    }
  }

  /** Records the decision that stands on the order (and marks its step) once the order document agreed to it. */
  decided(name: StepName, decision: StandingDecision): void {
    this.view.approval = { deadline: this.view.approval?.deadline ?? decision.decidedAt, decision };
    const entry = this.lastEntry(name);
    if (entry && !isTimeout(decision) && decision.approved) this.mark(entry, 'succeeded', `approved by ${decision.approver}`);
    else this.publish();
  }

  /**
   * Moves the order to a new status: at once in custom status, and in the order document by a
   * write scheduled with the next thing the saga waits for, so it runs beside the step it
   * announces instead of before it. Writes may land out of order; each carries a higher revision,
   * and the repository refuses one older than what is stored.
   */
  *moveTo(status: OrderStatus): Durable<void> {
    this.view.status = status;
    this.publish();
    this.revision += 1;
    const task = this.call(OrdersActivities.recordProgress, RetryPolicies.progress, {
      orderId: this.view.orderId,
      correlationId: this.view.correlationId,
      revision: this.revision,
      view: this.view,
    });
    this.progressWrites.push({ status, task });
    yield* [];
  }

  /** The happy ending; `alongside` runs beside the last progress write (a failure there is a warning). */
  *complete(alongside: { name: string; task: Task }[] = []): Durable<OrderView> {
    yield* this.moveTo('Completed');
    yield* this.settleAll(alongside.map(({ task }) => task));
    for (const { name, task } of alongside) if (task.isFaulted) this.view.warnings.push(`${name}: ${failureText(task.result)}`);
    if (alongside.some(({ task }) => task.isFaulted)) this.publish();
    return this.view;
  }

  /**
   * The unhappy ending: undo every step that did or may have done its work, newest first. A
   * compensation that still fails after its retries does not stop the others; it leaves the order
   * CompensationFailed. When no compensation found anything to undo, the order simply failed.
   */
  *abort(failure: unknown): Durable<OrderView> {
    this.view.reason = failureText(failure);
    const failed: FailedCompensation[] = [];
    // While it undoes, the order says so, not the step that failed.
    if (this.compensations.length > 0) yield* this.moveTo('Compensating');
    for (const compensation of [...this.compensations].reverse()) {
      const entry: CompensationEntry = { name: compensation.name, status: 'running', at: this.now(), startedAt: this.now() };
      this.view.compensations.push(entry);
      this.publish();
      try {
        const result: unknown = yield* this.settle(compensation.start());
        Object.assign(entry, compensation.undid(result) ? { status: 'succeeded' } : { status: 'skipped', detail: 'nothing to undo' }, { at: this.now() });
      } catch (error) {
        Object.assign(entry, { status: 'failed', at: this.now(), detail: failureText(error) });
        failed.push({ name: compensation.name, activity: compensation.activity, input: compensation.input, error: failureText(error) });
      }
    }
    let status: FinalStatus;
    if (failed.length > 0) {
      status = 'CompensationFailed';
      this.view.reason += `; compensation failed: ${failed.map((entry) => entry.name).join(', ')}`;
    } else if (this.view.compensations.some((entry) => entry.status === 'succeeded')) status = 'Compensated';
    else status = failure instanceof BusinessRejection ? 'Rejected' : 'Failed';
    yield* this.moveTo(status);
    // The document says CompensationFailed before a person is asked to repair the order: the
    // retry route and the repair's record go by that status, so it must not lag the dead letter.
    yield* this.settleAll([]);
    if (failed.length > 0) yield* this.deadLetter(failed);
    return this.view;
  }

  /**
   * Tells whoever listens how the order ended (choreography): one fact on the order-events queue.
   * The saga neither knows nor waits for the consumers; a failed publish is a warning, never a
   * reason to undo an order that already ended.
   */
  *announce(customerId: string): Durable<void> {
    const { orderId, correlationId, status, reason, total, currency } = this.view;
    try {
      yield this.call(OrdersActivities.publishOutcome, RetryPolicies.publish, { orderId, correlationId, customerId, status, reason, total, currency, at: this.now() });
    } catch (error) {
      this.view.warnings.push(`order outcome not published: ${failureText(error)}`);
      this.publish();
    }
  }

  /** Hands what could not be undone to a person, through the dead-letter queue. */
  private *deadLetter(failed: FailedCompensation[]): Durable<void> {
    const { orderId, correlationId } = this.view;
    const letter: DeadLetter = { orderId, correlationId, reason: this.view.reason ?? '', failed, deadLetteredAt: this.now() };
    try {
      yield* this.settle(this.call(OrdersActivities.deadLetter, RetryPolicies.compensation, letter));
    } catch (error) {
      this.view.warnings.push(`dead letter not sent: ${failureText(error)}`);
      this.publish();
    }
  }

  /** Waits for `task` and for the progress writes scheduled before it; returns its result or throws its error. */
  private *settle(task: Task): Durable<unknown> {
    yield* this.settleAll([task]);
    if (task.isFaulted) throw task.result;
    return task.result;
  }

  /**
   * Waits until every task given and every progress write scheduled so far has settled, whatever
   * fails first: `Task.all` alone fails fast and would leave the others unread. A progress write
   * that failed after its retries becomes a warning: the saga's own state is durable in its
   * history, and a lagging document must not undo a sale.
   */
  private *settleAll(tasks: Task[]): Durable<void> {
    const writes = this.progressWrites.splice(0);
    const all = [...tasks, ...writes.map(({ task }) => task)];
    if (all.length === 0) return;
    try {
      yield this.context.df.Task.all(all);
    } catch {
      // One failed first; wait for the rest below so that every outcome is known.
    }
    for (const task of all) {
      if (!task.isCompleted && !task.isFaulted) {
        try {
          yield task;
        } catch {
          // Read from the task by the caller.
        }
      }
    }
    const failedWrites = writes.filter(({ task }) => task.isFaulted);
    for (const { status, task } of failedWrites) this.view.warnings.push(`order document not updated to ${status}: ${failureText(task.result)}`);
    if (failedWrites.length > 0) this.publish();
  }

  private begin(name: StepName): StepEntry {
    const entry: StepEntry = { name, status: 'running', at: this.now(), startedAt: this.now() };
    this.view.steps.push(entry);
    this.publish();
    return entry;
  }

  private mark(entry: StepEntry, status: StepEntry['status'], detail?: string): void {
    Object.assign(entry, { status, at: this.now() }, detail ? { detail } : {});
    this.publish();
  }

  private lastEntry(name: StepName): StepEntry | undefined {
    return [...this.view.steps].reverse().find((entry) => entry.name === name);
  }

  private now(): string {
    return this.context.df.currentUtcDateTime.toISOString();
  }

  private publish(): void {
    this.context.df.setCustomStatus(this.view);
  }
}
