import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import * as z from 'zod';
import { correlatedLogger } from '../../libs/correlation';
import { parseCommand } from '../../libs/events';
import { OrdersActivities } from './contract';
import { FINAL, IN_FLIGHT, type OrderView } from './order-view';
import { saveOrderProgress } from './repository';

const RecordOrderProgress = z.object({
  orderId: z.string().min(1),
  correlationId: z.string().min(1),
  revision: z.number().int().positive(),
  view: z.looseObject({ orderId: z.string(), status: z.enum([...IN_FLIGHT, ...FINAL]) }),
});

/** Writes the order document at a status transition (idempotent: see saveOrderProgress). */
export async function recordOrderProgress(input: unknown, context: InvocationContext): Promise<{ written: boolean }> {
  const command = parseCommand(RecordOrderProgress, input);
  const view = command.view as unknown as OrderView;
  const outcome = await saveOrderProgress(command.revision, view, new Date());
  correlatedLogger(context, command).info('order progress', { status: view.status, revision: command.revision, outcome });
  return { written: outcome === 'written' };
}

df.app.activity(OrdersActivities.recordProgress, { handler: recordOrderProgress });
