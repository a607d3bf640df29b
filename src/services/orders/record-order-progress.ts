import { registerActivity } from '../../libs/activity';
import { OrdersContract } from './contract';
import { saveOrderProgress } from './repository';

/** Writes the order document at a status transition (idempotent: see saveOrderProgress). */
export const recordOrderProgress = registerActivity(OrdersContract.recordProgress, async (command, { log }) => {
  const outcome = await saveOrderProgress(command.revision, command.view, new Date());
  log.info('order progress', { status: command.view.status, revision: command.revision, outcome });
  return { written: outcome === 'written' };
});
