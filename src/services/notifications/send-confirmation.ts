import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { correlatedLogger } from '../../libs/correlation';
import { factType, parseCommand, SendConfirmation, type ConfirmationBounced, type ConfirmationSent } from '../../libs/events';
import { NotificationsActivities } from './contract';
import { sendOnce } from './send-once';

/** Emails the order confirmation once. A bounce is an answer (the mailbox does not exist), not a fault. */
export async function sendConfirmation(input: unknown, context: InvocationContext): Promise<ConfirmationSent | ConfirmationBounced> {
  const command = parseCommand(SendConfirmation, input);
  const ids = { orderId: command.orderId, correlationId: command.correlationId };
  const log = correlatedLogger(context, ids);

  const itemList = command.lines.map((line) => `${line.quantity} × ${line.name}`).join(', ');
  const result = await sendOnce(command.orderId, 'confirmation', {
    to: command.customerEmail,
    subject: `Your order ${command.orderId}`,
    body: `Thank you for your order: ${itemList}. Total ${command.total} ${command.currency}.`,
  });
  if (!result.sent) {
    log.warn('confirmation bounced', { reason: result.reason });
    return { type: factType('notifications', 'ConfirmationBounced'), ...ids, reason: result.reason };
  }
  log.info(result.repeated ? 'confirmation already sent' : 'confirmation sent', { messageId: result.messageId });
  return { type: factType('notifications', 'ConfirmationSent'), ...ids, messageId: result.messageId };
}

df.app.activity(NotificationsActivities.sendConfirmation, { handler: sendConfirmation });
