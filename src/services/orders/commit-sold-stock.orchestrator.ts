/**
 * commitSoldStock: the stock commit of a Completed order whose saga was terminated in its ending.
 *
 * The saga schedules the commit beside its Completed write; a terminate stops the saga, not an
 * activity it sent, but it drops the retries of that activity: a commit whose first attempt
 * failed would never run again, and the order's holds would stay held, never sold. The terminate
 * route (finish-ending.ts) starts this to run the commit with the saga's own retry policy. The
 * commit is idempotent (a fold happens once), so running it after one that did succeed folds nothing.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import * as z from 'zod';
import { OrderLine } from '../../libs/events';
import { InventoryContract } from '../inventory/contract';
import { COMMIT_SOLD_STOCK_ORCHESTRATION } from './contract';
import { RetryPolicies } from './retry-policies';
import { callActivity, outcomeOf, type Durable } from './saga';

export const CommitSoldStockInput = z.object({
  orderId: z.string().min(1),
  correlationId: z.string().min(1),
  lines: z.array(OrderLine).min(1),
});
export type CommitSoldStockInput = z.infer<typeof CommitSoldStockInput>;

export function* commitSoldStock(context: OrchestrationContext): Durable<{ committed: unknown }> {
  const input = CommitSoldStockInput.safeParse(context.df.getInput());
  if (!input.success) throw new Error(`commitSoldStock: malformed input: ${z.prettifyError(input.error)}`);
  const commit = callActivity(context, InventoryContract.commit, RetryPolicies.commit, input.data);
  try {
    yield commit;
  } catch {
    // Read from the task below.
  }
  const outcome = outcomeOf(commit);
  // Failed: the instance fails with the reason, and the terminate route, called again, starts it again.
  if (outcome.kind === 'failed')
    throw new Error(`stock of ${input.data.orderId} not committed: ${outcome.failure.message}`);
  return { committed: outcome.value };
}

df.app.orchestration(COMMIT_SOLD_STOCK_ORCHESTRATION, commitSoldStock);
