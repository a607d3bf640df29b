import type { HandlerOf } from '../../libs/activity';
import { factType } from '../../libs/events';
import type { NotificationsContract } from './contract';
import type { NotificationsProviders } from './providers';
import { sendOnce } from './send-once';

/** Emails the order confirmation once. A bounce is an answer (the mailbox does not exist), not a fault. */
export const sendConfirmation =
  ({ mailer }: NotificationsProviders): HandlerOf<typeof NotificationsContract.sendConfirmation> =>
  async (command, { log }) => {
    const ids = { orderId: command.orderId, correlationId: command.correlationId };

    const itemList = command.lines.map((line) => `${line.quantity} × ${line.name}`).join(', ');
    const result = await sendOnce(mailer, command.orderId, 'confirmation', {
      to: command.customerEmail,
      subject: `Your order ${command.orderId}`,
      body: `Thank you for your order: ${itemList}. Total ${command.total} ${command.currency}.`,
    });
    if (result.kind === 'bounced') {
      log.warn('confirmation bounced', { reason: result.reason });
      return { type: factType('notifications', 'ConfirmationBounced'), ...ids, reason: result.reason };
    }
    log.info(result.repeated ? 'confirmation already sent' : 'confirmation sent', { messageId: result.messageId });
    return { type: factType('notifications', 'ConfirmationSent'), ...ids, messageId: result.messageId };
  };
