import { registerActivity } from '../../libs/activity';
import { OrdersContract } from './contract';
import { sendDeadLetterOnce } from './dead-letters';

/**
 * Sends a CompensationFailed order to the dead-letter queue: exactly one message per order, and
 * none once an operator's repair resolved the letter this run was still to send. A letter the
 * order document could not record is answered `unrecorded`, not thrown: a retry would send it
 * again, and the saga retries only the record (recordDeadLetter).
 */
export const deadLetterOrder = registerActivity(OrdersContract.deadLetter, async (letter, { log }) => {
  const sent = await sendDeadLetterOnce(letter);
  if ('resolved' in sent) {
    log.info('dead letter not sent: a repair already resolved the order');
    return sent;
  }
  log.error('order dead-lettered: compensations need a person', {
    failed: letter.failed.map((entry) => entry.name),
    messageId: sent.messageId,
    repeated: sent.repeated,
    recorded: sent.recorded,
  });
  return sent.recorded ? { messageId: sent.messageId } : { messageId: sent.messageId, unrecorded: true as const };
});
