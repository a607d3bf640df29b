/**
 * The saga helper behind the placeOrder orchestration: it keeps the step log, remembers how to
 * undo each step once that step has (or may have) done its work, and on failure undoes them in
 * reverse order.
 *
 * Steps are declared with their undo beside them (`step({ name, activity, undo, … })`), and
 * activities are called through their contracts, so the orchestrator restates no types: a call's
 * command is checked against the contract and its result is the contract's union of facts.
 *
 * Everything here runs inside the orchestrator, so it obeys the orchestrator's rules: time comes
 * from `currentUtcDateTime`, and every effect is a durable task.
 */
import type * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ActivityContract } from '../../libs/activity';
import { failureOf, type Failure } from '../../libs/errors';
import { isDefect } from '../../libs/events';
import { OrdersContract, type DeadLetter, type FailedCompensation } from './contract';
import {
  clipText,
  isFinal,
  isTimeout,
  type CompensationEntry,
  type CompensationName,
  type FinalStatus,
  type OrderStatus,
  type OrderView,
  type StandingDecision,
  type StepEntry,
  type StepName,
} from './order-view';
import { RetryPolicies } from './retry-policies';

/** What a generator step yields to the durable runtime and gets back. */
export type Durable<T> = Generator<Task, T, unknown>;

/** A business rule ended the order (declined card, no stock, …): the answer, not a fault. */
export class BusinessRejection extends Error {
  constructor(
    readonly step: StepName,
    reason: string,
  ) {
    super(reason);
  }
}

/** A step failed for good: a transient fault outlasted its retry policy, or the activity answered with a defect. */
export class StepFault extends Error {
  constructor(
    readonly step: StepName,
    reason: string,
  ) {
    super(reason);
  }
}

declare const resultType: unique symbol;
/** A scheduled activity whose result is its contract's `Result` (or a defect, which the saga reads as a failure). */
export type ActivityTask<Result> = Task & { readonly [resultType]?: Result };

/** How a settled activity ended: its result, or why it failed (a fault after its retries, or a defect at once). */
export type Outcome<T> = { kind: 'succeeded'; value: T } | { kind: 'failed'; failure: Failure };

/** Schedules an activity through its contract, with its retry policy. Retries happen in the host, between replays. */
export function callActivity<Command, Result>(
  context: OrchestrationContext,
  contract: ActivityContract<string, Command, Result>,
  policy: df.RetryOptions,
  command: NoInfer<Command>,
): ActivityTask<Result> {
  return context.df.callActivityWithRetry(contract.name, policy, command);
}

/**
 * Reads a settled task. A defect (the activity wrapper's answer to anything but a transient fault)
 * is a failure like a fault that outlasted its retries, only it arrived after one attempt.
 */
export function outcomeOf<Result>(task: ActivityTask<Result>): Outcome<Result> {
  if (task.isFaulted) return { kind: 'failed', failure: failureOf(task.result) };
  const result: unknown = task.result;
  if (isDefect(result)) return { kind: 'failed', failure: { message: result.reason, type: result.errorType } };
  return { kind: 'succeeded', value: result as Result };
}

/** How to undo one step: the compensation, its command, and how to read its answer. */
export interface Undo {
  name: CompensationName;
  /** The activity and its input, kept so that a person can run it again from the dead-letter queue. */
  activity: string;
  input: unknown;
  start: (context: OrchestrationContext) => Task;
  /** Reads the compensation's answer: false when there turned out to be nothing to undo. */
  undid: (result: unknown) => boolean;
}

/** Declares an undo: `undo('refundPayment', PaymentsContract.refund, ids, (refund) => isFact(PaymentRefunded, refund))`. */
export function undo<Command, Result>(
  name: CompensationName,
  contract: ActivityContract<string, Command, Result>,
  command: NoInfer<Command>,
  undid: (result: Result) => boolean,
): Undo {
  return {
    name,
    activity: contract.name,
    input: command,
    start: (context) => callActivity(context, contract, RetryPolicies.compensation, command),
    undid: (result) => undid(result as Result),
  };
}

/** One step of the saga, declared in one place: what it calls, how it is undone, whether the order needs it. */
export interface Step<Command, Result, Critical extends boolean = boolean> {
  name: StepName;
  activity: ActivityContract<string, Command, Result>;
  retry: df.RetryOptions;
  /** Owed once the step did its work, or failed and may have done part of it. */
  undo?: Undo;
  /** Whether a result means the step acted, so that its undo is owed. Every result does unless said. */
  acted?: (result: Result) => boolean;
  /** A critical step's failure undoes the order; a non-critical one's is a warning on it. */
  critical: Critical;
  /** For a non-critical step: a result that is itself worth a warning (a bounced email). */
  warning?: (result: Result) => string | undefined;
}

export function step<Command, Result, Critical extends boolean>(
  declaration: Step<Command, Result, Critical>,
): Step<Command, Result, Critical> {
  return declaration;
}

/** A step and the command it runs with, as one branch of a parallel block (see `OrderSaga.branch`). */
export interface Branch<Result, Critical extends boolean> {
  name: StepName;
  critical: Critical;
  undo?: Undo;
  start: (context: OrchestrationContext) => ActivityTask<Result>;
  /** Given the result of `start`'s task. */
  acted: (result: unknown) => boolean;
  warning: (result: unknown) => string | undefined;
}

/** What a parallel block gives back per branch: a critical branch's result; a non-critical one's when it did not fail. */
export type BranchResults<T extends readonly Branch<unknown, boolean>[]> = {
  [K in keyof T]: T[K] extends Branch<infer Result, infer Critical>
    ? Critical extends true
      ? Result
      : Result | undefined
    : never;
};

export class OrderSaga {
  readonly view: OrderView;
  private readonly undos: Undo[] = [];
  /** Orders the order document's writes, so a stale duplicate can never overwrite a newer state. */
  private revision = 0;
  /** Progress writes scheduled by `moveTo`, not yet waited for. */
  private readonly progressWrites: { status: OrderStatus; task: ActivityTask<unknown> }[] = [];
  /** How many of the view's warnings the last progress write carried (see `recordLateWarnings`). */
  private warningsWritten = 0;

  constructor(
    private readonly context: OrchestrationContext,
    ids: { orderId: string; correlationId: string },
    currency: OrderView['currency'],
  ) {
    this.view = { ...ids, status: 'Pending', total: null, currency, steps: [], compensations: [], warnings: [] };
    this.publish();
  }

  /** Schedules an activity through its contract with its retry policy. */
  call<Command, Result>(
    contract: ActivityContract<string, Command, Result>,
    policy: df.RetryOptions,
    command: NoInfer<Command>,
  ): ActivityTask<Result> {
    return callActivity(this.context, contract, policy, command);
  }

  /** Calls an activity and waits for it (and the progress writes before it); never throws: a failure is an outcome. */
  *ask<Command, Result>(
    contract: ActivityContract<string, Command, Result>,
    policy: df.RetryOptions,
    command: NoInfer<Command>,
  ): Durable<Outcome<Result>> {
    const task = this.call(contract, policy, command);
    yield* this.settleAll([task]);
    return outcomeOf(task);
  }

  /** Pairs a step with its command, for `parallel`. */
  branch<Command, Result, Critical extends boolean>(
    declared: Step<Command, Result, Critical>,
    command: NoInfer<Command>,
  ): Branch<Result, Critical> {
    return {
      name: declared.name,
      critical: declared.critical,
      ...(declared.undo ? { undo: declared.undo } : {}),
      start: (context) => callActivity(context, declared.activity, declared.retry, command),
      acted: (result) => declared.acted?.(result as Result) ?? true,
      warning: (result) => declared.warning?.(result as Result),
    };
  }

  /**
   * Runs one critical step to its result. A step that failed (its fault outlasted its retries, or
   * it answered with a defect) becomes a StepFault; since it may have done part of its work before
   * failing, its undo is owed all the same (every compensation is idempotent and says when there
   * was nothing to undo).
   */
  *run<Command, Result>(declared: Step<Command, Result, true>, command: NoInfer<Command>): Durable<Result> {
    const task = this.call(declared.activity, declared.retry, command);
    const entry = this.begin(declared.name);
    yield* this.settleAll([task]);
    const outcome = outcomeOf(task);
    if (outcome.kind === 'failed') {
      this.mark(entry, 'failed', outcome.failure.message);
      if (declared.undo) this.owe(declared.undo);
      throw new StepFault(declared.name, outcome.failure.message);
    }
    this.mark(entry, 'succeeded');
    if (declared.undo && (declared.acted?.(outcome.value) ?? true)) this.owe(declared.undo);
    return outcome.value;
  }

  /**
   * Starts the given branches together and waits for every one of them to settle. `Task.all`
   * alone would fail fast on the first failure and hide which other branches succeeded - and those
   * are exactly the ones that must be undone. A branch that acted, or failed and may have, owes its
   * undo: the non-critical branches' undos are owed first, so the critical branch is undone first.
   * A non-critical branch's failure is a warning; a critical one's is a StepFault.
   */
  *parallel<const T extends readonly Branch<unknown, boolean>[]>(branches: T): Durable<BranchResults<T>> {
    const all: readonly Branch<unknown, boolean>[] = branches;
    const tasks = all.map((branch) => branch.start(this.context));
    const entries = all.map((branch) => this.begin(branch.name));
    yield* this.settleAll(tasks);
    const settled = all.map((branch, index) => {
      const outcome = outcomeOf(tasks[index]);
      if (outcome.kind === 'failed') this.mark(entries[index], 'failed', outcome.failure.message);
      else this.mark(entries[index], 'succeeded');
      return { branch, outcome };
    });
    const nonCritical = settled.filter(({ branch }) => !branch.critical);
    const critical = settled.filter(({ branch }) => branch.critical);
    for (const { branch, outcome } of [...nonCritical, ...critical]) {
      if (branch.undo && (outcome.kind === 'failed' || branch.acted(outcome.value))) this.owe(branch.undo);
    }
    for (const { branch, outcome } of nonCritical) {
      const warning = outcome.kind === 'failed' ? outcome.failure.message : branch.warning(outcome.value);
      if (warning !== undefined) this.warn(branch.name, warning);
    }
    for (const { branch, outcome } of critical)
      if (outcome.kind === 'failed') throw new StepFault(branch.name, outcome.failure.message);
    return settled.map(({ outcome }) => (outcome.kind === 'succeeded' ? outcome.value : undefined)) as BranchResults<T>;
  }

  /** Ends the saga for a business reason given by a step that ran. */
  reject(name: StepName, reason: string): never {
    const entry = this.lastEntry(name);
    if (entry) this.mark(entry, 'failed', reason);
    throw new BusinessRejection(name, reason);
  }

  /** Records how to undo a step that did (or may have done) its work, should a later step fail. */
  private owe(undoing: Undo): void {
    this.undos.push(undoing);
    // Published, so that an operator who terminates the saga knows what it leaves to undo.
    this.view.undoable = this.undos.map((entry) => entry.name);
    this.publish();
  }

  /** A non-critical step failed: the order goes on, and the failure stays visible on it. */
  warn(name: StepName, message: string): void {
    const entry = this.lastEntry(name);
    if (entry) this.mark(entry, 'warning', message);
    this.noteWarning(`${name}: ${message}`);
  }

  priced(total: number): void {
    this.view.total = total;
    this.publish();
  }

  /**
   * Waits for a person's decision, raced against a durable timer: the order shows AwaitingApproval
   * and its deadline. Only an event `accept` makes sense of is a decision; anything else raised
   * on the instance (a malformed or empty body, through the management API) is no decision, and
   * the wait goes on until the same deadline.
   */
  *awaitDecision<D>(
    name: StepName,
    eventName: string,
    timeoutMs: number,
    accept: (event: unknown) => D | undefined,
  ): Durable<{ decision: D } | { timedOut: true; deadline: string }> {
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
    if (entry && !isTimeout(decision) && decision.approved)
      this.mark(entry, 'succeeded', `approved by ${decision.approver}`);
    else this.publish();
  }

  /**
   * Moves the order to a new status: at once in custom status, and in the order document by a
   * write scheduled with the next thing the saga waits for, so it runs beside the step it
   * announces instead of before it. Writes may land out of order; each carries a higher revision,
   * and the repository refuses one older than what is stored. The write carries the view as it
   * stands when the saga next waits (the SDK sends it then): nothing between a `moveTo` and that
   * wait adds a warning, so it carries the warnings there are now.
   */
  *moveTo(status: OrderStatus): Durable<void> {
    this.view.status = status;
    this.publish();
    this.revision += 1;
    this.warningsWritten = this.view.warnings.length;
    const task = this.call(OrdersContract.recordProgress, RetryPolicies.progress, {
      orderId: this.view.orderId,
      correlationId: this.view.correlationId,
      revision: this.revision,
      view: this.view,
    });
    this.progressWrites.push({ status, task });
    yield* [];
  }

  /** The happy ending; `alongside` runs beside the last progress write (a failure there is a warning). */
  *complete(alongside: { name: string; task: ActivityTask<unknown> }[] = []): Durable<OrderView> {
    yield* this.moveTo('Completed');
    yield* this.settleAll(alongside.map(({ task }) => task));
    for (const { name, task } of alongside) {
      const outcome = outcomeOf(task);
      if (outcome.kind === 'failed') this.noteWarning(`${name}: ${outcome.failure.message}`);
    }
    return this.view;
  }

  /**
   * The unhappy ending: undo every step that did or may have done its work, newest first. A
   * compensation that still fails (after its retries, or with a defect at once) does not stop the
   * others; it leaves the order CompensationFailed. When no compensation found anything to undo,
   * the order simply failed.
   */
  *abort(failure: unknown): Durable<OrderView> {
    this.view.reason = clipText(failureOf(failure).message);
    const failed: FailedCompensation[] = [];
    // While it undoes, the order says so, not the step that failed.
    if (this.undos.length > 0) yield* this.moveTo('Compensating');
    for (const undoing of [...this.undos].reverse()) {
      const entry: CompensationEntry = { name: undoing.name, status: 'running', at: this.now(), startedAt: this.now() };
      this.view.compensations.push(entry);
      this.publish();
      const task = undoing.start(this.context);
      yield* this.settleAll([task]);
      const outcome = outcomeOf(task);
      if (outcome.kind === 'failed') {
        Object.assign(entry, { status: 'failed', at: this.now(), detail: clipText(outcome.failure.message) });
        failed.push({
          name: undoing.name,
          activity: undoing.activity,
          input: undoing.input,
          error: outcome.failure.message,
        });
      } else {
        Object.assign(
          entry,
          undoing.undid(outcome.value) ? { status: 'succeeded' } : { status: 'skipped', detail: 'nothing to undo' },
          { at: this.now() },
        );
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
    if (!isFinal(status)) throw new Error(`order ${orderId} announced while ${status}`);
    const published = yield* this.ask(OrdersContract.publishOutcome, RetryPolicies.publish, {
      orderId,
      correlationId,
      customerId,
      status,
      reason,
      total,
      currency,
      at: this.now(),
    });
    if (published.kind === 'failed') {
      this.noteWarning(`order outcome not published: ${published.failure.message}`);
    }
  }

  /**
   * The saga's last word on the order document. After the final status is written, the ending can
   * still add warnings: the stock commit failed, the dead letter or the outcome fact could not be
   * sent, or that final write itself failed. Custom status shows them only while the instance
   * exists; the order document keeps the order. So they are written too: the same final status
   * once more, with a higher revision, which the repository takes only over that same final status
   * with fewer warnings (saveOrderProgress), so never over an operator's repair or terminate, and a
   * redelivery of it changes nothing. A write that fails after its retries is one more warning on
   * custom status: nothing follows it.
   *
   * Replay: the write is scheduled only when there are such warnings, and after everything else the
   * saga does. A saga without late warnings (every happy one) schedules exactly what it did before
   * this write existed, and any history recorded before it existed replays unchanged: the
   * announcement was that saga's last action, so for an instance still running this write is new
   * work after all its history holds.
   */
  *recordLateWarnings(): Durable<void> {
    if (this.view.warnings.length === this.warningsWritten) return;
    const { orderId, correlationId, status } = this.view;
    this.revision += 1;
    this.warningsWritten = this.view.warnings.length;
    const written = yield* this.ask(OrdersContract.recordProgress, RetryPolicies.progress, {
      orderId,
      correlationId,
      revision: this.revision,
      view: this.view,
    });
    if (written.kind === 'failed')
      this.noteWarning(
        `order document not updated with the warnings added after ${status}: ${written.failure.message}`,
      );
  }

  /** Hands what could not be undone to a person, through the dead-letter queue. */
  private *deadLetter(failed: FailedCompensation[]): Durable<void> {
    const { orderId, correlationId } = this.view;
    const letter: DeadLetter = {
      orderId,
      correlationId,
      reason: this.view.reason ?? '',
      failed,
      deadLetteredAt: this.now(),
    };
    const sent = yield* this.ask(OrdersContract.deadLetter, RetryPolicies.compensation, letter);
    if (sent.kind === 'failed') {
      this.noteWarning(`dead letter not sent: ${sent.failure.message}`);
      return;
    }
    if (!('unrecorded' in sent.value)) return;
    // On the queue, but not on the order document, which the retry route goes by: retry the
    // record alone, with the message id known (a second send could not tell it already went out).
    // Replay: scheduled only after a run that answered `unrecorded`, which no earlier code did.
    const { messageId } = sent.value;
    this.view.unrecordedDeadLetter = { messageId };
    this.publish();
    const recorded = yield* this.ask(OrdersContract.recordDeadLetter, RetryPolicies.compensation, {
      ...letter,
      messageId,
    });
    if (recorded.kind === 'failed') {
      this.noteWarning(
        `dead letter not recorded on the order (message ${messageId}; the operator's retry records it): ${recorded.failure.message}`,
      );
      return;
    }
    delete this.view.unrecordedDeadLetter;
    this.publish();
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
    for (const { status, task } of writes) {
      const outcome = outcomeOf(task);
      if (outcome.kind === 'failed')
        this.noteWarning(`order document not updated to ${status}: ${outcome.failure.message}`);
    }
  }

  /** A warning on the order as a whole (not on one step): kept on the view (clipped), and shown at once. */
  private noteWarning(message: string): void {
    this.view.warnings.push(clipText(message));
    this.publish();
  }

  private begin(name: StepName): StepEntry {
    const entry: StepEntry = { name, status: 'running', at: this.now(), startedAt: this.now() };
    this.view.steps.push(entry);
    this.publish();
    return entry;
  }

  /** The detail is clipped: it may be an activity's error or a provider's reason, of any length. */
  private mark(entry: StepEntry, status: StepEntry['status'], detail?: string): void {
    Object.assign(entry, { status, at: this.now() }, detail ? { detail: clipText(detail) } : {});
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
