import type { HandlerOf } from '../../libs/activity';
import { factType } from '../../libs/events';
import type { NotificationsContract } from './contract';
import type { Mailer } from './mailer';
import type { NotificationsProviders } from './providers';
import { messageDocumentId, readMessage, recordMessage, type MessageDocument } from './repository';
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
    const confirmation =
      (await readMessage(command.orderId, 'confirmation')) ??
      (await adoptUnrecordedConfirmation(mailer, command.orderId));
    if (!confirmation) {
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

/**
 * A confirmation can be accepted by the mail provider while its record never reaches the messages
 * container (the step ran out of retries in between). The provider, asked by the confirmation's
 * key, still knows it went out: record it, so the cancellation follows it.
 *
 * Asked rather than assumed: sending the cancellation whenever a confirmation may have gone out
 * would also mail customers whose confirmation never left (the mailer was down throughout), about
 * an order they never heard of. With a provider whose sent log cannot be searched that would be
 * the honest fallback (a needless "your order was cancelled" beats silence after a confirmation);
 * this one can be asked, so each customer hears of a cancellation exactly when they heard of the order.
 */
async function adoptUnrecordedConfirmation(mailer: Mailer, orderId: string): Promise<MessageDocument | undefined> {
  const id = messageDocumentId(orderId, 'confirmation');
  const sent = await mailer.find(id);
  if (!sent) return undefined;
  return recordMessage({
    id,
    orderId,
    kind: 'confirmation',
    to: sent.to,
    subject: sent.subject,
    messageId: sent.messageId,
    sentAt: sent.acceptedAt,
  });
}
