import { registerActivity } from '../../libs/activity';
import { OrdersContract } from './contract';
import { sendDeadLetterOnce } from './dead-letters';

/** Sends a CompensationFailed order to the dead-letter queue: exactly one message per order. */
export const deadLetterOrder = registerActivity(OrdersContract.deadLetter, async (letter, { log }) => {
  const { messageId, repeated } = await sendDeadLetterOnce(letter);
  log.error('order dead-lettered: compensations need a person', {
    failed: letter.failed.map((entry) => entry.name),
    messageId,
    repeated,
  });
  return { messageId };
});
