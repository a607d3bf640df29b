import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import * as z from 'zod';
import { correlatedLogger } from '../../libs/correlation';
import { parseCommand } from '../../libs/events';
import { OrdersActivities } from './contract';
import { removeDeadLetter } from './dead-letters';
import type { CompensationEntry } from './order-view';
import { updateOrder } from './repository';

const RecordRepair = z.object({
  orderId: z.string().min(1),
  correlationId: z.string().min(1),
  outcomes: z.array(z.object({ name: z.string(), status: z.enum(['succeeded', 'failed']), at: z.string(), detail: z.string().optional() })),
});

/**
 * Writes a repair's outcome on the order: each retried compensation's new status, and
 * Compensated once none is left failed. Safe to repeat: a resolved order is left as it is.
 */
export async function recordRepairOutcome(input: unknown, context: InvocationContext): Promise<{ repaired: boolean }> {
  const command = parseCommand(RecordRepair, input);
  const outcomes = new Map(command.outcomes.map((outcome) => [outcome.name, outcome as CompensationEntry]));
  const order = await updateOrder(command.orderId, (stored) => {
    if (stored.status !== 'CompensationFailed' && stored.status !== 'Terminated') return undefined;
    const compensations = stored.compensations.map((entry) => (entry.status === 'failed' ? (outcomes.get(entry.name) ?? entry) : entry));
    const repaired = compensations.every((entry) => entry.status !== 'failed');
    return {
      ...stored,
      compensations,
      status: repaired ? 'Compensated' : stored.status,
      reason: repaired ? `${stored.reason ?? ''}; repaired by an operator`.replace(/^; /, '') : stored.reason,
      revision: stored.revision + 1,
      updatedAt: new Date().toISOString(),
      deadLetter: { ...stored.deadLetter!, state: repaired ? 'resolved' : stored.deadLetter!.state, repairs: (stored.deadLetter?.repairs ?? 0) + 1 },
    };
  });
  const repaired = order.status === 'Compensated';
  // The message goes once the order no longer needs a person; a repeat finds nothing to remove.
  if (repaired) await removeDeadLetter(command.orderId);
  correlatedLogger(context, command).info(repaired ? 'order repaired' : 'repair incomplete', { outcomes: command.outcomes.map((o) => `${o.name}:${o.status}`) });
  return { repaired };
}

df.app.activity(OrdersActivities.recordRepair, { handler: recordRepairOutcome });
