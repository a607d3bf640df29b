import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import * as z from 'zod';
import { correlatedLogger } from '../../libs/correlation';
import { parseCommand } from '../../libs/events';
import { OrdersActivities } from './contract';
import type { StandingDecision } from './order-view';
import { recordDecision } from './repository';

const SettleApproval = z.object({
  orderId: z.string().min(1),
  correlationId: z.string().min(1),
  deadline: z.string().optional(),
  proposed: z.union([
    z.object({ approved: z.boolean(), approver: z.string().min(1), decidedAt: z.string() }),
    z.object({ timedOut: z.literal(true), decidedAt: z.string() }),
  ]),
});

/**
 * The saga's half of "one decision": it proposes what it saw (a person's decision, or the
 * timeout) and gets back the decision that stands on the order document, first write wins.
 * A decision the approval route recorded just before the deadline beats a timer that fired
 * before its event arrived; a decision raised on the instance past the route is only taken
 * when nothing else was recorded. Idempotent: a repeat gets the decision that stands.
 */
export async function settleApproval(input: unknown, context: InvocationContext): Promise<StandingDecision> {
  const command = parseCommand(SettleApproval, input);
  const proposed = command.proposed as StandingDecision;
  const result = await recordDecision(command.orderId, proposed, command.deadline ?? proposed.decidedAt);
  const standing = result?.standing ?? proposed;
  correlatedLogger(context, command).info('approval settled', { recorded: result?.recorded ?? false, decision: 'timedOut' in standing ? 'timedOut' : standing.approved });
  return standing;
}

df.app.activity(OrdersActivities.settleApproval, { handler: settleApproval });
