import { registerActivity } from '../../libs/activity';
import { OrdersContract } from './contract';
import { recordDeadLetter as recordOnOrder } from './dead-letters';

/**
 * Records on the order document a dead letter that is already on the queue (deadLetterOrder sent
 * it while the orders database was down), so the operator's retry route, which goes by the
 * document, takes it. Sends nothing: an unavailable database throws and the saga's retries try
 * the write again, never the send.
 */
export const recordDeadLetter = registerActivity(OrdersContract.recordDeadLetter, async (command, { log }) => {
  const { messageId, ...letter } = command;
  const kept = await recordOnOrder(letter, messageId);
  if (kept === undefined) {
    log.info('dead letter not recorded: a repair already resolved the order', { messageId });
    return { resolved: true as const };
  }
  log.info('dead letter recorded on the order', { messageId: kept });
  return { messageId: kept };
});
