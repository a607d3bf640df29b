import type { HandlerOf } from '../../libs/activity';
import { factType } from '../../libs/events';
import type { NotificationsContract } from './contract';
import type { NotificationsProviders } from './providers';
import { readMessage } from './repository';
import { sendOnce } from './send-once';

/**
 * Compensation for sendConfirmation: tells the customer the order is off, once. It runs only
 * where a confirmation reached the same address, so a bounce here means something is wrong
 * beyond a retry's reach: it throws, the activity wrapper answers with a defect at once, and the
 * compensation fails (the order shows it, and the dead letter) rather than pretending the
 * customer was told.
 */
export const sendCancellation =
  ({ mailer }: NotificationsProviders): HandlerOf<typeof NotificationsContract.sendCancellation> =>
  async (command, { log }) => {
    const ids = { orderId: command.orderId, correlationId: command.correlationId };

    // The saga also calls this when the confirmation step failed midway: the customer is told of a
    // cancellation only if they were told of the order.
    if (!(await readMessage(command.orderId, 'confirmation'))) {
      log.info('cancellation not needed: no confirmation was sent');
      return { type: factType('notifications', 'CancellationNotNeeded'), ...ids, reason: 'no confirmation was sent' };
    }

    const result = await sendOnce(mailer, command.orderId, 'cancellation', {
      to: command.customerEmail,
      subject: `Your order ${command.orderId} was cancelled`,
      body: `We are sorry: your order ${command.orderId} was cancelled (${command.reason}).`,
    });
    if (result.kind === 'bounced') {
      log.error('cancellation bounced', { reason: result.reason });
      throw new Error(`cancellation for order ${command.orderId} bounced: ${result.reason}`);
    }
    log.info(result.repeated ? 'cancellation already sent' : 'cancellation sent', { messageId: result.messageId });
    return { type: factType('notifications', 'CancellationSent'), ...ids, messageId: result.messageId };
  };
