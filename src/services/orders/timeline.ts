/**
 * What the timeline page draws for one order, read from the saga's own record: the order view
 * (custom status, or the order document), and the orchestration's history as the Durable HTTP API
 * returns it (`historyEvents`: every activity attempt with its scheduled and end time, the raised
 * approval, the timers). Nothing here is stored twice; the page asks, this answers.
 */
import { AnalyticsActivities } from '../analytics/contract';
import { InventoryActivities } from '../inventory/contract';
import { NotificationsActivities } from '../notifications/contract';
import { PaymentsActivities } from '../payments/contract';
import { ShippingActivities } from '../shipping/contract';
import { failureText } from '../../libs/errors';
import { isDefect, type ActivityDefect } from '../../libs/events';
import { OrdersActivities } from './contract';
import type { DeadLetterRecord } from './dead-letters';
import { isRunning } from './http/instance';
import {
  isFinal,
  isRepairable,
  isTimeout,
  type CompensationName,
  type OrderView,
  type PlaceOrderInput,
  type StepName,
} from './order-view';

/** The registered activity behind each step and compensation. */
const STEP_ACTIVITIES: Record<Exclude<StepName, 'approval'>, string> = {
  validate: OrdersActivities.validate,
  pay: PaymentsActivities.charge,
  reserve: InventoryActivities.reserve,
  confirm: NotificationsActivities.sendConfirmation,
  analytics: AnalyticsActivities.record,
  ship: ShippingActivities.create,
};
const COMPENSATION_ACTIVITIES: Record<CompensationName, string> = {
  refundPayment: PaymentsActivities.refund,
  releaseStock: InventoryActivities.release,
  sendCancellation: NotificationsActivities.sendCancellation,
  retractAnalytics: AnalyticsActivities.retract,
  cancelShipment: ShippingActivities.cancel,
};

/** One history event in the documented HTTP API shape (only the fields read here). */
export interface HistoryEventJson {
  EventType: string;
  Timestamp: string;
  FunctionName?: string;
  ScheduledTime?: string;
  Name?: string;
  Input?: unknown;
  Result?: unknown;
  Reason?: string;
  FireAt?: string;
}

export interface Attempt {
  start: string;
  end: string;
  outcome: 'succeeded' | 'failed';
  error?: string;
  /** The wait before the next attempt (the retry policy's backoff), when there was one. */
  retryAfterMs?: number;
}

export interface TimelineSpan {
  kind: 'step' | 'compensation' | 'repair';
  name: string;
  status: string;
  start: string;
  /** Absent while it runs: the page draws it to its now-line. */
  end?: string;
  detail?: string;
  attempts: Attempt[];
}

export interface OrderTimeline {
  orderId: string;
  correlationId: string;
  status: OrderView['status'];
  total: number | null;
  currency: OrderView['currency'];
  reason?: string;
  warnings: string[];
  /**
   * Whether the saga or a repair may still change what is shown: the page keeps reading until it
   * is false. A final status alone is not enough: the saga dead-letters (and announces) after it.
   */
  live: boolean;
  /** The server's clock (wall time, or the durable clock locally): where the now-line is drawn. */
  now: string;
  items: { sku: string; quantity: number; name?: string; unitPrice?: number; lineTotal?: number }[];
  approval?: {
    required: true;
    deadline?: string;
    /** The timeout stood: nobody decided before the deadline. */
    timedOut?: true;
    decision?: { approved: boolean; approver: string; at: string };
  };
  shipment?: { trackingNumber: string; carrier: string };
  deadLetter?: {
    state: DeadLetterRecord['state'];
    repairs: number;
    failed: { name: string; error: string }[];
    repair?: { runtimeStatus: string; lastUpdatedAt?: string };
    /**
     * The letter is open and the order's status is one a repair can turn Compensated
     * (CompensationFailed or Terminated): what the retry route accepts, so the page offers it.
     */
    repairable?: true;
  };
  spans: TimelineSpan[];
}

export interface TimelineSources {
  view: OrderView;
  /** The saga instance's runtime status; absent once it is purged. */
  runtimeStatus?: string;
  input?: PlaceOrderInput;
  history?: HistoryEventJson[];
  deadLetter?: DeadLetterRecord;
  repair?: { runtimeStatus: string; lastUpdatedTime?: string; history?: HistoryEventJson[] };
  now: Date;
}

const isTask = (event: HistoryEventJson) => event.EventType === 'TaskCompleted' || event.EventType === 'TaskFailed';

/** The defect a completed task answered with, if it did (the activity wrapper's answer to a non-transient error). */
function defectOf(event: HistoryEventJson): ActivityDefect | undefined {
  let result = event.Result;
  if (typeof result === 'string') {
    try {
      result = JSON.parse(result);
    } catch {
      return undefined;
    }
  }
  return isDefect(result) ? result : undefined;
}

/** Every attempt of one activity in a history, oldest first, with the retry wait after each failure. */
export function attemptsOf(history: readonly HistoryEventJson[], activity: string): Attempt[] {
  const attempts: Attempt[] = history
    .filter((event) => isTask(event) && event.FunctionName === activity)
    .map((event): Attempt => {
      const span = { start: event.ScheduledTime ?? event.Timestamp, end: event.Timestamp };
      if (event.EventType === 'TaskFailed')
        return { ...span, outcome: 'failed', ...(event.Reason ? { error: failureText(event.Reason) } : {}) };
      const defect = defectOf(event);
      return defect ? { ...span, outcome: 'failed', error: defect.reason } : { ...span, outcome: 'succeeded' };
    });
  for (let index = 0; index + 1 < attempts.length; index += 1) {
    if (attempts[index].outcome !== 'failed') continue;
    const wait = Date.parse(attempts[index + 1].start) - Date.parse(attempts[index].end);
    if (wait > 0) attempts[index].retryAfterMs = wait;
  }
  return attempts;
}

function resultOf<T>(history: readonly HistoryEventJson[], activity: string): T | undefined {
  const done = history.filter((event) => event.EventType === 'TaskCompleted' && event.FunctionName === activity);
  return done.at(-1)?.Result as T | undefined;
}

export function buildTimeline(sources: TimelineSources): OrderTimeline {
  const { view, input, deadLetter, repair, now } = sources;
  const history = sources.history ?? [];
  const spans: TimelineSpan[] = [];
  // A step that ran twice (never today) would share its attempts; each entry takes those since it began.
  for (const entry of view.steps) {
    const activity = entry.name === 'approval' ? undefined : STEP_ACTIVITIES[entry.name];
    spans.push(spanOf('step', entry, activity ? attemptsOf(history, activity) : []));
  }
  for (const entry of view.compensations)
    spans.push(spanOf('compensation', entry, attemptsOf(history, COMPENSATION_ACTIVITIES[entry.name])));
  if (repair?.history) {
    for (const name of new Set(deadLetter?.letter.failed.map((failed) => failed.name) ?? [])) {
      const attempts = attemptsOf(repair.history, COMPENSATION_ACTIVITIES[name as CompensationName]);
      if (attempts.length === 0) continue;
      const last = attempts.at(-1)!;
      spans.push({
        kind: 'repair',
        name,
        status: last.outcome,
        start: attempts[0].start,
        end: last.end,
        attempts,
        ...(last.error ? { detail: last.error } : {}),
      });
    }
  }

  const validated = resultOf<{ lines?: OrderTimeline['items'] }>(history, OrdersActivities.validate);
  const items =
    validated?.lines?.map(({ sku, quantity, name, unitPrice, lineTotal }) => ({
      sku,
      quantity,
      name,
      unitPrice,
      lineTotal,
    })) ??
    input?.order.items.map(({ sku, quantity }) => ({ sku, quantity })) ??
    [];

  const timeline: OrderTimeline = {
    orderId: view.orderId,
    correlationId: view.correlationId,
    status: view.status,
    total: view.total,
    currency: view.currency,
    ...(view.reason ? { reason: view.reason } : {}),
    warnings: view.warnings,
    live: !isFinal(view.status) || isRunning(sources.runtimeStatus) || isRunning(repair?.runtimeStatus),
    now: now.toISOString(),
    items,
    spans,
  };

  const approvalEntry = view.steps.find((entry) => entry.name === 'approval');
  if (approvalEntry) {
    // The decision that stands is the view's (the order document settles it), not the first event
    // raised on the instance: it survives a purge, and it says when the timeout won.
    const standing = view.approval?.decision;
    // The deadline is the one the saga set, which the approval route holds decisions to. The step
    // began after it (the AwaitingApproval write comes between), so a deadline counted from the
    // step's start would come late; that count is only for a view that has no deadline.
    const began = approvalEntry.startedAt ?? (approvalEntry.status === 'running' ? approvalEntry.at : undefined);
    const deadline =
      view.approval?.deadline ??
      (began && input ? new Date(Date.parse(began) + input.policy.approvalTimeoutMs).toISOString() : undefined);
    timeline.approval = {
      required: true,
      ...(deadline ? { deadline } : {}),
      ...(standing && isTimeout(standing) ? { timedOut: true } : {}),
      ...(standing && !isTimeout(standing)
        ? { decision: { approved: standing.approved, approver: standing.approver, at: standing.decidedAt } }
        : {}),
    };
  }
  const shipped = resultOf<{ trackingNumber?: string; carrier?: string }>(history, ShippingActivities.create);
  if (shipped?.trackingNumber)
    timeline.shipment = { trackingNumber: shipped.trackingNumber, carrier: shipped.carrier ?? '' };
  if (deadLetter) {
    timeline.deadLetter = {
      state: deadLetter.state,
      repairs: deadLetter.repairs ?? 0,
      failed: deadLetter.letter.failed.map(({ name, error }) => ({ name, error })),
      ...(repair ? { repair: { runtimeStatus: repair.runtimeStatus, lastUpdatedAt: repair.lastUpdatedTime } } : {}),
      ...(deadLetter.state !== 'resolved' && isRepairable(view.status) ? { repairable: true } : {}),
    };
  }
  return timeline;
}

function spanOf(
  kind: TimelineSpan['kind'],
  entry: OrderView['steps'][number] | OrderView['compensations'][number],
  attempts: Attempt[],
): TimelineSpan {
  const running = entry.status === 'running';
  const start = entry.startedAt ?? attempts[0]?.start ?? entry.at;
  return {
    kind,
    name: entry.name,
    status: entry.status,
    start,
    ...(running ? {} : { end: entry.at }),
    ...(entry.detail ? { detail: entry.detail } : {}),
    attempts,
  };
}
