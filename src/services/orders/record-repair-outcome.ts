import { registerActivity } from '../../libs/activity';
import { OrdersContract } from './contract';
import { removeDeadLetter } from './dead-letters';
import { updateOrder } from './repository';

/**
 * Writes a repair's outcome on the order: each retried compensation's new status, and
 * Compensated once none is left failed. Safe to repeat: a resolved order is left as it is.
 */
export const recordRepairOutcome = registerActivity(OrdersContract.recordRepair, async (command, { log }) => {
  const outcomes = new Map(command.outcomes.map((outcome) => [outcome.name, outcome]));
  const order = await updateOrder(command.orderId, (stored) => {
    if (stored.status !== 'CompensationFailed' && stored.status !== 'Terminated') return undefined;
    const compensations = stored.compensations.map((entry) =>
      entry.status === 'failed' ? (outcomes.get(entry.name) ?? entry) : entry,
    );
    const repaired = compensations.every((entry) => entry.status !== 'failed');
    return {
      ...stored,
      compensations,
      status: repaired ? 'Compensated' : stored.status,
      reason: repaired ? `${stored.reason ?? ''}; repaired by an operator`.replace(/^; /, '') : stored.reason,
      revision: stored.revision + 1,
      updatedAt: new Date().toISOString(),
      deadLetter: {
        ...stored.deadLetter!,
        state: repaired ? 'resolved' : stored.deadLetter!.state,
        repairs: (stored.deadLetter?.repairs ?? 0) + 1,
      },
    };
  });
  const repaired = order.status === 'Compensated';
  // The message goes once the order no longer needs a person; a repeat finds nothing to remove.
  if (repaired) await removeDeadLetter(command.orderId);
  log.info(repaired ? 'order repaired' : 'repair incomplete', {
    outcomes: command.outcomes.map((o) => `${o.name}:${o.status}`),
  });
  return { repaired };
});
