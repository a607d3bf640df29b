/**
 * Turns the activity timings of each completed order into its critical path and the time the
 * engine added around it. The saga's sequential path for a happy order is
 *
 *   validate → progress(Paying) → pay → progress(Fulfilling) → { reserve | confirm | analytics }
 *            → progress(Shipping) → ship → progress(Completed) → orchestration completes
 *
 * `progress(…)` is recordOrderProgress: the orchestrator yields on it (saga.ts moveTo), so the
 * next step cannot start before that Cosmos write is done. It is on the critical path.
 */
import { AnalyticsActivities } from '../src/services/analytics/contract';
import { InventoryActivities } from '../src/services/inventory/contract';
import { NotificationsActivities } from '../src/services/notifications/contract';
import { OrdersActivities } from '../src/services/orders/contract';
import { PaymentsActivities } from '../src/services/payments/contract';
import { ShippingActivities } from '../src/services/shipping/contract';
import type { ActivityCall } from './instrument';
import { mean, percentile, round, summarize, type Summary } from './stats';

export interface OrderTiming {
  orderId: string;
  /** performance.now() just before POST /api/orders. */
  placedAt: number;
  /** The 202 came back. */
  acceptedAt?: number;
  /** The orchestration's custom status (what GET /api/orders/{id} shows) first said Completed. */
  visibleFinalAt?: number;
  /** The engine recorded the orchestration as finished. */
  finishedAt?: number;
  runtimeStatus?: string;
  finalStatus?: string;
  error?: string;
}

const BRANCHES = [InventoryActivities.reserve, NotificationsActivities.sendConfirmation, AnalyticsActivities.record];
const PROGRESS = ['Paying', 'Fulfilling', 'Shipping', 'Completed'] as const;

interface Span {
  start: number;
  end: number;
  ms: number;
}

export interface OrderBreakdown {
  orderId: string;
  e2eMs: number;
  acceptMs: number;
  visibleFinalMs: number;
  /** validate + pay + slowest branch + ship. */
  businessPathMs: number;
  /** The four progress writes. */
  progressMs: number;
  /** businessPath + progress: everything the saga must wait for, one after the other. */
  criticalPathMs: number;
  slowestBranch: string;
  slowestBranchMs: number;
  /** First branch start → the orchestrator scheduling the next step (it has seen every branch's result). */
  parallelStepMs: number;
  /** First branch start → last branch end (the activities alone, no fan-in episodes). */
  parallelActivitiesMs: number;
  /** Engine time between consecutive steps (named by the step that follows). */
  gaps: Record<string, number>;
  steps: Record<string, number>;
}

export interface SagaAnalysis {
  orders: number;
  /** Orders left out because a step's timing was missing (should be 0). */
  incomplete: number;
  e2eMs: Summary;
  acceptMs: Summary;
  visibleFinalMs: Summary;
  criticalPathMs: Summary;
  businessPathMs: Summary;
  e2eOverCriticalPath: { p50: number; p95: number; ofMeans: number };
  e2eOverBusinessPath: { p50: number; p95: number; ofMeans: number };
  /** From the 202 instead of the POST: leaves out what placing the order costs the caller. */
  acceptedToFinishOverCriticalPath: { p50: number; p95: number; ofMeans: number };
  parallelOverSlowestBranch: { p50: number; p95: number; ofMeans: number };
  parallelActivitiesOverSlowestBranch: { p50: number; p95: number; ofMeans: number };
  slowestBranchShare: Record<string, number>;
  /** Mean ms per step (activity handler time, measured by the wrapper). */
  stepMeansMs: Record<string, number>;
  /** Mean ms of engine time per transition; they add up (with the branch skew) to e2e − critical path. */
  gapMeansMs: Record<string, number>;
  overheadMeanMs: number;
}

export function analyzeOrders(orders: readonly OrderTiming[], calls: readonly ActivityCall[]): SagaAnalysis {
  const byOrder = new Map<string, ActivityCall[]>();
  for (const call of calls) byOrder.set(call.orderId, [...(byOrder.get(call.orderId) ?? []), call]);

  const breakdowns: OrderBreakdown[] = [];
  let incomplete = 0;
  for (const order of orders) {
    const breakdown = breakdownOf(order, byOrder.get(order.orderId) ?? []);
    if (breakdown) breakdowns.push(breakdown);
    else incomplete += 1;
  }

  const pick = (read: (breakdown: OrderBreakdown) => number) => breakdowns.map(read);
  const ratio = (top: (b: OrderBreakdown) => number, bottom: (b: OrderBreakdown) => number) => {
    const ratios = pick((b) => top(b) / bottom(b));
    return {
      p50: round(percentile(ratios, 50), 3),
      p95: round(percentile(ratios, 95), 3),
      ofMeans: round(mean(pick(top)) / mean(pick(bottom)), 3),
    };
  };
  const meansOf = (read: (b: OrderBreakdown) => Record<string, number>) => {
    const keys = breakdowns.length > 0 ? Object.keys(read(breakdowns[0])) : [];
    return Object.fromEntries(keys.map((key) => [key, round(mean(pick((b) => read(b)[key])))]));
  };
  const share: Record<string, number> = {};
  for (const breakdown of breakdowns) share[breakdown.slowestBranch] = (share[breakdown.slowestBranch] ?? 0) + 1;

  return {
    orders: breakdowns.length,
    incomplete,
    e2eMs: summarize(pick((b) => b.e2eMs)),
    acceptMs: summarize(pick((b) => b.acceptMs)),
    visibleFinalMs: summarize(pick((b) => b.visibleFinalMs)),
    criticalPathMs: summarize(pick((b) => b.criticalPathMs)),
    businessPathMs: summarize(pick((b) => b.businessPathMs)),
    e2eOverCriticalPath: ratio(
      (b) => b.e2eMs,
      (b) => b.criticalPathMs,
    ),
    e2eOverBusinessPath: ratio(
      (b) => b.e2eMs,
      (b) => b.businessPathMs,
    ),
    acceptedToFinishOverCriticalPath: ratio(
      (b) => b.e2eMs - b.acceptMs,
      (b) => b.criticalPathMs,
    ),
    parallelOverSlowestBranch: ratio(
      (b) => b.parallelStepMs,
      (b) => b.slowestBranchMs,
    ),
    parallelActivitiesOverSlowestBranch: ratio(
      (b) => b.parallelActivitiesMs,
      (b) => b.slowestBranchMs,
    ),
    slowestBranchShare: Object.fromEntries(
      Object.entries(share).map(([name, count]) => [name, round(count / breakdowns.length, 3)]),
    ),
    stepMeansMs: meansOf((b) => b.steps),
    gapMeansMs: meansOf((b) => b.gaps),
    overheadMeanMs: round(mean(pick((b) => b.e2eMs - b.criticalPathMs))),
  };
}

function breakdownOf(order: OrderTiming, calls: readonly ActivityCall[]): OrderBreakdown | undefined {
  if (order.finishedAt === undefined || order.acceptedAt === undefined) return undefined;
  // A step that ran more than once (a retry) counts from its first start to its last end.
  const span = (activity: string, status?: string): Span | undefined => {
    const mine = calls.filter((call) => call.activity === activity && call.status === status);
    if (mine.length === 0) return undefined;
    const start = Math.min(...mine.map((call) => call.start));
    const end = Math.max(...mine.map((call) => call.end));
    return { start, end, ms: mine.reduce((sum, call) => sum + (call.end - call.start), 0) };
  };
  const validate = span(OrdersActivities.validate);
  const pay = span(PaymentsActivities.charge);
  const ship = span(ShippingActivities.create);
  const branches = BRANCHES.map((name) => ({ name, span: span(name) }));
  const progress = PROGRESS.map((status) => span(OrdersActivities.recordProgress, status));
  if (!validate || !pay || !ship || branches.some((branch) => !branch.span) || progress.some((write) => !write))
    return undefined;
  const [paying, fulfilling, shipping, completed] = progress as Span[];
  const branchSpans = branches.map((branch) => branch.span as Span);

  const slowest = branches.reduce((a, b) => ((b.span as Span).ms > (a.span as Span).ms ? b : a));
  const slowestMs = (slowest.span as Span).ms;
  const firstBranchStart = Math.min(...branchSpans.map((s) => s.start));
  const lastBranchEnd = Math.max(...branchSpans.map((s) => s.end));
  const businessPathMs = validate.ms + pay.ms + slowestMs + ship.ms;
  const progressMs = progress.reduce((sum, write) => sum + (write as Span).ms, 0);

  return {
    orderId: order.orderId,
    e2eMs: order.finishedAt - order.placedAt,
    acceptMs: order.acceptedAt - order.placedAt,
    visibleFinalMs: (order.visibleFinalAt ?? order.finishedAt) - order.placedAt,
    businessPathMs,
    progressMs,
    criticalPathMs: businessPathMs + progressMs,
    slowestBranch: slowest.name,
    slowestBranchMs: slowestMs,
    parallelStepMs: shipping.start - firstBranchStart,
    parallelActivitiesMs: lastBranchEnd - firstBranchStart,
    steps: {
      validate: validate.ms,
      'progress(Paying)': paying.ms,
      pay: pay.ms,
      'progress(Fulfilling)': fulfilling.ms,
      ...Object.fromEntries(branches.map((branch) => [branch.name, (branch.span as Span).ms])),
      'progress(Shipping)': shipping.ms,
      ship: ship.ms,
      'progress(Completed)': completed.ms,
    },
    gaps: {
      'placed → validate (accept + first episode)': validate.start - order.placedAt,
      'validate → progress(Paying)': paying.start - validate.end,
      'progress → pay': pay.start - paying.end,
      'pay → progress(Fulfilling)': fulfilling.start - pay.end,
      'progress → branches (fan-out)': firstBranchStart - fulfilling.end,
      'branch skew (last branch end − first start − slowest)': lastBranchEnd - firstBranchStart - slowestMs,
      'branches → progress(Shipping) (fan-in)': shipping.start - lastBranchEnd,
      'progress → ship': ship.start - shipping.end,
      'ship → progress(Completed)': completed.start - ship.end,
      'progress(Completed) → orchestration completed': order.finishedAt - completed.end,
    },
  };
}
