/**
 * The names the orders context registers, the event the approval endpoint raises, and the
 * contracts of its activities (registered name, command schema, results).
 */
import * as z from 'zod';
import { activity } from '../../libs/activity';
import { Currency, OrderInvalid, OrderPlaced, OrderValidated } from '../../libs/events';
import { COMPENSATION_NAMES, CompensationEntry, FINAL, OrderView, StandingDecision } from './order-view';

export const PLACE_ORDER_ORCHESTRATION = 'placeOrder';

const ids = { orderId: z.string().min(1), correlationId: z.string().min(1) };

/** A progress write: the order view at a status transition, with the saga's write sequence. */
export const RecordOrderProgress = z.object({ ...ids, revision: z.number().int().positive(), view: OrderView });
export type RecordOrderProgress = z.infer<typeof RecordOrderProgress>;

/** The saga proposes the decision it saw; the order document answers with the one that stands. */
export const SettleApproval = z.object({ ...ids, deadline: z.string().optional(), proposed: StandingDecision });
export type SettleApproval = z.infer<typeof SettleApproval>;

/** Enough to run a failed compensation again: which activity, with which input. */
export const FailedCompensation = z.object({
  name: z.enum(COMPENSATION_NAMES),
  activity: z.string(),
  input: z.unknown(),
  error: z.string(),
});
export type FailedCompensation = z.infer<typeof FailedCompensation>;

export const DeadLetter = z.object({
  ...ids,
  reason: z.string(),
  failed: z.array(FailedCompensation).min(1),
  deadLetteredAt: z.string(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

/** A dead letter that is on the queue as `messageId`, for the order document to record. */
export const RecordDeadLetter = DeadLetter.extend({ messageId: z.string().min(1) });
export type RecordDeadLetter = z.infer<typeof RecordDeadLetter>;

/** The letter's message; `unrecorded` when the order document could not record it (recordDeadLetter then does). */
const DeadLetterSent = z.object({ messageId: z.string(), unrecorded: z.literal(true).optional() });
const DeadLetterResolved = z.object({ resolved: z.literal(true) });

export const RecordRepair = z.object({
  ...ids,
  outcomes: z.array(CompensationEntry.extend({ status: z.enum(['succeeded', 'failed']) })),
});
export type RecordRepair = z.infer<typeof RecordRepair>;

export const PublishOrderOutcome = z.object({
  ...ids,
  customerId: z.string(),
  status: z.enum(FINAL),
  reason: z.string().optional(),
  total: z.number().nullable(),
  currency: Currency,
  at: z.string(),
});
export type PublishOrderOutcome = z.infer<typeof PublishOrderOutcome>;

export const OrdersContract = {
  validate: activity('validateOrder', OrderPlaced, [OrderValidated, OrderInvalid]),
  recordProgress: activity('recordOrderProgress', RecordOrderProgress, [z.object({ written: z.boolean() })]),
  deadLetter: activity('deadLetterOrder', DeadLetter, [DeadLetterSent, DeadLetterResolved]),
  recordDeadLetter: activity('recordDeadLetter', RecordDeadLetter, [
    z.object({ messageId: z.string() }),
    DeadLetterResolved,
  ]),
  recordRepair: activity('recordRepairOutcome', RecordRepair, [z.object({ repaired: z.boolean() })]),
  publishOutcome: activity('publishOrderOutcome', PublishOrderOutcome, [
    z.object({ messageId: z.string(), type: z.string() }),
  ]),
  settleApproval: activity('settleApproval', SettleApproval, [StandingDecision]),
} as const;

/** The registered names alone. */
export const OrdersActivities = {
  validate: OrdersContract.validate.name,
  recordProgress: OrdersContract.recordProgress.name,
  deadLetter: OrdersContract.deadLetter.name,
  recordDeadLetter: OrdersContract.recordDeadLetter.name,
  recordRepair: OrdersContract.recordRepair.name,
  publishOutcome: OrdersContract.publishOutcome.name,
  settleApproval: OrdersContract.settleApproval.name,
} as const;

/** Retries the failed compensations of a dead-lettered order, on an operator's request. */
export const REPAIR_ORDER_ORCHESTRATION = 'repairOrder';
/** With a separator no order id may contain (ORDER_ID), so no order's saga can take a repair's id, or a repair an order's. */
export const repairInstanceId = (orderId: string) => `${orderId}:repair`;

/** Commits the stock of a Completed order whose saga was terminated before its commit was done (finish-ending.ts). */
export const COMMIT_SOLD_STOCK_ORCHESTRATION = 'commitSoldStock';
export const commitInstanceId = (orderId: string) => `${orderId}:commit`;

/** Raised on the order's instance when a person approves or rejects a large order. */
export const APPROVAL_EVENT = 'ApprovalDecision';
