/**
 * repairOrder: an operator's retry of a dead-lettered order. Runs again only the compensations
 * that failed, each idempotent, then records the outcome: Compensated when all of them succeeded,
 * else the order stays CompensationFailed with its dead letter.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import * as z from 'zod';
import { FailedCompensation, OrdersContract, REPAIR_ORDER_ORCHESTRATION } from './contract';
import { clipText, type CompensationEntry } from './order-view';
import { RetryPolicies } from './retry-policies';
import { callActivity, outcomeOf, type ActivityTask, type Durable } from './saga';

export const RepairInput = z.object({
  orderId: z.string().min(1),
  correlationId: z.string().min(1),
  failed: z.array(FailedCompensation),
});
export type RepairInput = z.infer<typeof RepairInput>;

export function* repairOrder(context: OrchestrationContext): Durable<{ repaired: boolean }> {
  const input = RepairInput.safeParse(context.df.getInput());
  if (!input.success) throw new Error(`repairOrder: malformed input: ${z.prettifyError(input.error)}`);
  const { orderId, correlationId, failed } = input.data;
  const outcomes: RepairOutcome[] = [];
  for (const compensation of failed) {
    // The dead letter names the activity as data; what it answers is read only as failed or not.
    const task: ActivityTask<unknown> = context.df.callActivityWithRetry(
      compensation.activity,
      RetryPolicies.compensation,
      compensation.input,
    );
    try {
      yield task;
    } catch {
      // Read from the task below.
    }
    const outcome = outcomeOf(task);
    const at = context.df.currentUtcDateTime.toISOString();
    outcomes.push(
      outcome.kind === 'failed'
        ? { name: compensation.name, status: 'failed', at, detail: clipText(outcome.failure.message) }
        : { name: compensation.name, status: 'succeeded', at },
    );
  }
  const recorded = callActivity(context, OrdersContract.recordRepair, RetryPolicies.progress, {
    orderId,
    correlationId,
    outcomes,
  });
  yield recorded;
  const outcome = outcomeOf(recorded);
  if (outcome.kind === 'failed') throw new Error(`repair of ${orderId} not recorded: ${outcome.failure.message}`);
  return outcome.value;
}

type RepairOutcome = CompensationEntry & { status: 'succeeded' | 'failed' };

df.app.orchestration(REPAIR_ORDER_ORCHESTRATION, repairOrder);
