import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import * as z from 'zod';
import { correlatedLogger } from '../../libs/correlation';
import { parseCommand } from '../../libs/events';
import { OrdersActivities } from './contract';
import { type DeadLetter, sendDeadLetterOnce } from './dead-letters';

const DeadLetterCommand = z.object({
  orderId: z.string().min(1),
  correlationId: z.string().min(1),
  reason: z.string(),
  failed: z.array(z.object({ name: z.string(), activity: z.string(), input: z.unknown(), error: z.string() })).min(1),
  deadLetteredAt: z.string(),
});

/** Sends a CompensationFailed order to the dead-letter queue: exactly one message per order. */
export async function deadLetterOrder(input: unknown, context: InvocationContext): Promise<{ messageId: string }> {
  const letter = parseCommand(DeadLetterCommand, input) as DeadLetter;
  const { messageId, repeated } = await sendDeadLetterOnce(letter);
  correlatedLogger(context, letter).error('order dead-lettered: compensations need a person', {
    failed: letter.failed.map((entry) => entry.name),
    messageId,
    repeated,
  });
  return { messageId };
}

df.app.activity(OrdersActivities.deadLetter, { handler: deadLetterOrder });
