/**
 * What the saga tells the world about an order: its status, the step log and the compensations.
 * The orchestrator publishes it as custom status on every change, and writes it to the order
 * document at every status transition.
 */
import type { Currency } from '../../libs/events';

export const IN_FLIGHT = ['Pending', 'AwaitingApproval', 'Paying', 'Fulfilling', 'Shipping'] as const;
export const FINAL = ['Completed', 'Rejected', 'Failed', 'Compensated', 'CompensationFailed'] as const;
export type InFlightStatus = (typeof IN_FLIGHT)[number];
export type FinalStatus = (typeof FINAL)[number];
export type OrderStatus = InFlightStatus | FinalStatus;

export const isFinal = (status: OrderStatus): status is FinalStatus => (FINAL as readonly string[]).includes(status);

export type StepName = 'validate' | 'approval' | 'pay' | 'reserve' | 'confirm' | 'analytics' | 'ship';
export type CompensationName = 'refundPayment' | 'releaseStock' | 'sendCancellation' | 'retractAnalytics' | 'cancelShipment';

export interface StepEntry {
  name: StepName;
  status: 'running' | 'succeeded' | 'failed' | 'warning';
  /** When the entry last changed (its end, once it ended). */
  at: string;
  /** When the step began: with `at`, the span the timeline draws. */
  startedAt?: string;
  detail?: string;
}

export interface CompensationEntry {
  name: CompensationName;
  /** `skipped`: the compensation ran and found nothing to undo (the step had failed before acting). */
  status: 'running' | 'succeeded' | 'failed' | 'skipped';
  at: string;
  startedAt?: string;
  detail?: string;
}

export interface OrderView {
  orderId: string;
  correlationId: string;
  status: OrderStatus;
  total: number | null;
  currency: Currency;
  steps: StepEntry[];
  compensations: CompensationEntry[];
  warnings: string[];
  /** Why the order ended where it did, for the final statuses other than Completed. */
  reason?: string;
}

/** The orchestration's input: the order as placed, and the policy in force when it was placed. */
export interface PlaceOrderInput {
  order: import('../../libs/events').OrderPlaced;
  policy: { approvalThreshold: number; approvalTimeoutMs: number };
}

export interface ApprovalDecision {
  approved: boolean;
  approver: string;
}
