/**
 * What the saga tells the world about an order: its status, the step log and the compensations.
 * The orchestrator publishes it as custom status on every change, and writes it to the order
 * document at every status transition.
 */
import * as z from 'zod';
import { Currency, OrderPlaced } from '../../libs/events';

/**
 * `Accepted`: the order document exists and the saga is being started. `Compensating`: a step
 * failed and the saga is undoing what succeeded. `Terminated`: an operator stopped the saga; what
 * it left charged, reserved or shipped went to the dead-letter queue.
 */
export const IN_FLIGHT = [
  'Accepted',
  'Pending',
  'AwaitingApproval',
  'Paying',
  'Fulfilling',
  'Shipping',
  'Compensating',
] as const;
export const FINAL = ['Completed', 'Rejected', 'Failed', 'Compensated', 'CompensationFailed', 'Terminated'] as const;
export type InFlightStatus = (typeof IN_FLIGHT)[number];
export type FinalStatus = (typeof FINAL)[number];
export type OrderStatus = InFlightStatus | FinalStatus;

export const isFinal = (status: OrderStatus): status is FinalStatus => (FINAL as readonly string[]).includes(status);

/** The final statuses that leave a dead letter, which an operator's repair can turn Compensated. */
export const isRepairable = (status: OrderStatus): boolean =>
  status === 'CompensationFailed' || status === 'Terminated';

export const STEP_NAMES = ['validate', 'approval', 'pay', 'reserve', 'confirm', 'analytics', 'ship'] as const;
export const COMPENSATION_NAMES = [
  'refundPayment',
  'releaseStock',
  'sendCancellation',
  'retractAnalytics',
  'cancelShipment',
] as const;
export type StepName = (typeof STEP_NAMES)[number];
export type CompensationName = (typeof COMPENSATION_NAMES)[number];

export const StepEntry = z.object({
  name: z.enum(STEP_NAMES),
  status: z.enum(['running', 'succeeded', 'failed', 'warning']),
  /** When the entry last changed (its end, once it ended). */
  at: z.string(),
  /** When the step began: with `at`, the span the timeline draws. */
  startedAt: z.string().optional(),
  detail: z.string().optional(),
});
export type StepEntry = z.infer<typeof StepEntry>;

export const CompensationEntry = z.object({
  name: z.enum(COMPENSATION_NAMES),
  /** `skipped`: the compensation ran and found nothing to undo (the step had failed before acting). */
  status: z.enum(['running', 'succeeded', 'failed', 'skipped']),
  at: z.string(),
  startedAt: z.string().optional(),
  detail: z.string().optional(),
});
export type CompensationEntry = z.infer<typeof CompensationEntry>;

/** A person's decision, as the approval route records it and raises it on the saga. */
export const ApprovalDecision = z.object({
  approved: z.boolean(),
  /** The approver's name from their client principal, never from a request body. */
  approver: z.string().min(1),
  decidedAt: z.string(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

/** The decision that stands: a person's, or the timeout's. */
export const StandingDecision = z.union([
  ApprovalDecision,
  z.object({ timedOut: z.literal(true), decidedAt: z.string() }),
]);
export type StandingDecision = z.infer<typeof StandingDecision>;

export const ApprovalState = z.object({ deadline: z.string(), decision: StandingDecision.optional() });
export type ApprovalState = z.infer<typeof ApprovalState>;

/** Checked where the order view crosses a wire (the progress write). */
export const OrderView = z.object({
  orderId: z.string(),
  correlationId: z.string(),
  status: z.enum([...IN_FLIGHT, ...FINAL]),
  total: z.number().nullable(),
  currency: Currency,
  steps: z.array(StepEntry),
  compensations: z.array(CompensationEntry),
  warnings: z.array(z.string()),
  /** Why the order ended where it did, for the final statuses other than Completed. */
  reason: z.string().optional(),
  /** The steps that did (or may have done) their work, by the compensation that undoes each, oldest first. */
  undoable: z.array(z.enum(COMPENSATION_NAMES)).optional(),
  /** For an order that waits for a person: until when, and the decision that stands once there is one. */
  approval: ApprovalState.optional(),
  /**
   * For a CompensationFailed order whose dead letter is on the queue but not on the order document
   * (the orders database was down past every retry of the record): the message, so the operator's
   * retry records that one instead of sending another.
   */
  unrecordedDeadLetter: z.object({ messageId: z.string() }).optional(),
});
export type OrderView = z.infer<typeof OrderView>;

/** The orchestration's input: the order as placed, and the policy in force when it was placed. Parsed once on entry. */
export const PlaceOrderInput = z.object({
  order: OrderPlaced,
  policy: z.object({ approvalThreshold: z.number(), approvalTimeoutMs: z.number().nonnegative() }),
});
export type PlaceOrderInput = z.infer<typeof PlaceOrderInput>;

/**
 * The longest free text the view carries in one place (a step's or compensation's detail, a
 * warning, the reason), in UTF-16 code units of its JSON. The saga publishes the whole view as
 * custom status on every change, and the Durable extension fails an orchestration whose custom
 * status is over 16 KB of UTF-16 JSON; texts the saga did not write itself (an activity's error,
 * a provider's reason, a list of invalid skus) are clipped where they are set, so the view stays
 * well under that whatever the input (test/saga/view-size.test.ts).
 */
export const VIEW_TEXT_MAX = 150;

/** What a character costs in JSON as the extension measures it (Newtonsoft.Json also escapes U+0085, U+2028, U+2029). */
function jsonUnits(char: string): number {
  if (char.length === 2) return 2;
  const code = char.charCodeAt(0);
  if ('"\\\b\t\n\f\r'.includes(char)) return 2;
  if (code < 0x20 || code === 0x85 || code === 0x2028 || code === 0x2029 || (code >= 0xd800 && code <= 0xdfff))
    return 6;
  return 1;
}

const unitsOf = (chars: readonly string[]) => chars.reduce((sum, char) => sum + jsonUnits(char), 0);

/**
 * The text, or as much of it as fits in `max` JSON units with "…" after it. Deterministic (the
 * saga replays it), and never splits a surrogate pair.
 */
export function clipText(text: string, max = VIEW_TEXT_MAX): string {
  const chars = [...text];
  if (unitsOf(chars) <= max) return text;
  let units = 1;
  let kept = 0;
  while (units + jsonUnits(chars[kept]) <= max) units += jsonUnits(chars[kept++]);
  return `${chars.slice(0, kept).join('')}…`;
}

/**
 * Items joined with `separator` while they fit in `max` JSON units, and the rest said as
 * `… (<n> in all)`: "unknown sku A; unknown sku B; … (50 in all)". Items that fit read as they are.
 */
export function listText(items: readonly string[], separator = '; ', max = VIEW_TEXT_MAX): string {
  const whole = items.join(separator);
  if (unitsOf([...whole]) <= max) return whole;
  const tail = `${separator}… (${items.length} in all)`;
  let kept = 0;
  while (unitsOf([...(items.slice(0, kept + 1).join(separator) + tail)]) <= max) kept += 1;
  if (kept === 0) return clipText(items[0], max - tail.length) + tail;
  return items.slice(0, kept).join(separator) + tail;
}

export const isTimeout = (decision: StandingDecision): decision is { timedOut: true; decidedAt: string } =>
  'timedOut' in decision;
