import { registerActivity } from '../../libs/activity';
import { OrdersContract } from './contract';
import { recordDecision } from './repository';

/**
 * The saga's half of "one decision": it proposes what it saw (a person's decision, or the
 * timeout) and gets back the decision that stands on the order document, first write wins.
 * A decision the approval route recorded just before the deadline beats a timer that fired
 * before its event arrived; a decision raised on the instance past the route is only taken
 * when nothing else was recorded. Idempotent: a repeat gets the decision that stands.
 */
export const settleApproval = registerActivity(OrdersContract.settleApproval, async (command, { log }) => {
  const { proposed } = command;
  const result = await recordDecision(command.orderId, proposed, command.deadline ?? proposed.decidedAt);
  const standing = result?.standing ?? proposed;
  log.info('approval settled', {
    recorded: result?.recorded ?? false,
    decision: 'timedOut' in standing ? 'timedOut' : standing.approved,
  });
  return standing;
});
