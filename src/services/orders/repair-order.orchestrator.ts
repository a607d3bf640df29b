/**
 * repairOrder: an operator's retry of a dead-lettered order. Runs again only the compensations
 * that failed, each idempotent, then records the outcome: Compensated when all of them succeeded,
 * else the order stays CompensationFailed with its dead letter.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import { failureText } from '../../libs/errors';
import { OrdersActivities, REPAIR_ORDER_ORCHESTRATION } from './contract';
import type { FailedCompensation } from './dead-letters';
import type { CompensationEntry } from './order-view';
import { RetryPolicies } from './retry-policies';
import type { Durable } from './saga';

export interface RepairInput {
  orderId: string;
  correlationId: string;
  failed: FailedCompensation[];
}

export function* repairOrder(context: OrchestrationContext): Durable<{ repaired: boolean }> {
  const { orderId, correlationId, failed } = context.df.getInput<RepairInput>();
  const outcomes: CompensationEntry[] = [];
  for (const compensation of failed) {
    try {
      yield context.df.callActivityWithRetry(compensation.activity, RetryPolicies.compensation, compensation.input);
      outcomes.push({ name: compensation.name, status: 'succeeded', at: context.df.currentUtcDateTime.toISOString() });
    } catch (error) {
      const detail = failureText(error);
      outcomes.push({ name: compensation.name, status: 'failed', at: context.df.currentUtcDateTime.toISOString(), detail });
    }
  }
  return (yield context.df.callActivityWithRetry(OrdersActivities.recordRepair, RetryPolicies.progress, { orderId, correlationId, outcomes })) as {
    repaired: boolean;
  };
}

df.app.orchestration(REPAIR_ORDER_ORCHESTRATION, repairOrder);
