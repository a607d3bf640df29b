/**
 * The dead-letter queue: orders whose compensations still failed after every retry, waiting for a
 * person. Each such order gets exactly one message, even though the activity that sends it may
 * run more than once: the order document records the claim before the send and the message id
 * after it, and a run that finds a claim without a message id looks in the queue before sending.
 * Two runs at once may both send; the one whose id is not recorded deletes its own message.
 *
 * A letter sent while the order document could not be written is never sent again to get it
 * recorded: a look at the queue sees only its first PEEK_LIMIT messages, so in a wide outage a
 * second send would not find the first and every try would add a copy. What is retried is the
 * record alone, with the message id already known (recordDeadLetter).
 */
import { decodeMessage, encodeMessage, queueClient } from '../../libs/storage-queues';
import { config } from '../../libs/config';
import type { DeadLetter } from './contract';
import { isUnavailable } from '../../libs/cosmos';
import { TransientError } from '../../libs/errors';
import { updateOrder } from './repository';

export type { DeadLetter, FailedCompensation } from './contract';

/** What the order document keeps of its dead letter. */
export interface DeadLetterRecord {
  state: 'claimed' | 'sent' | 'resolved';
  letter: DeadLetter;
  messageId?: string;
  repairs?: number;
}

const deadLetters = () => queueClient(config.deadLetterQueue());
/** How many messages one look at the queue can see; a dead-letter queue is meant to stay short. */
const PEEK_LIMIT = 32;

/** Local development and tests only: in Azure the queue is declared in infra/. */
export async function ensureDeadLetterQueue(): Promise<void> {
  await deadLetters().createIfNotExists();
}

/**
 * Sends the order's dead letter unless it was sent already. The order document records the claim
 * before the send and the message id after it; the queue is looked at before every send, so a
 * letter sent by an earlier run that died before recording it is found there. When the order
 * document cannot be reached, the letter does not wait for it: a letter that cannot be sent
 * means no person will ever look at the order. It is then sent once and answered `recorded:
 * false`, not thrown: a retry of this would send again wherever the queue holds more letters than
 * one look sees. The caller records it with recordDeadLetter, which can be retried freely.
 */
export async function sendDeadLetterOnce(
  letter: DeadLetter,
): Promise<{ messageId: string; repeated: boolean; recorded: boolean } | { resolved: true }> {
  let record: DeadLetterRecord | undefined;
  try {
    const claimed = await updateOrder(letter.orderId, (order) =>
      order.deadLetter ? undefined : { ...order, deadLetter: { state: 'claimed', letter } },
    );
    record = claimed.deadLetter!;
    if (record.messageId) return { messageId: record.messageId, repeated: true, recorded: true };
    // The claim is on the order (the timeline shows it, the retry route takes it) before the
    // letter is on the queue: an operator's repair may have resolved it while this send waited.
    if (record.state === 'resolved') return { resolved: true };
  } catch (error) {
    if (!isUnavailable(error)) throw error;
  }

  const earlier = await findMessage(letter.orderId);
  const sent = earlier ? undefined : await deadLetters().sendMessage(encodeMessage(record?.letter ?? letter));
  const messageId = earlier?.messageId ?? sent!.messageId;
  let kept: string | undefined;
  try {
    kept = await recordDeadLetter(letter, messageId);
  } catch (error) {
    if (!isUnavailable(error)) throw error;
    return { messageId, repeated: Boolean(earlier), recorded: false };
  }
  // A concurrent run recorded its message first (both looked before either had sent), or a repair
  // resolved the order meanwhile: take ours back.
  if (sent && kept !== messageId) await deadLetters().deleteMessage(sent.messageId, sent.popReceipt);
  if (kept === undefined) return { resolved: true };
  return { messageId: kept, repeated: Boolean(earlier) || kept !== messageId, recorded: true };
}

/**
 * For the operator's routes, which answer a person instead of retrying: the letter is sent once,
 * and one the order document could not record is a TransientError naming its message (so 503, and
 * the caller's repeat records it), never a success that leaves the letter unrecorded.
 */
export async function sendDeadLetterForRoute(letter: DeadLetter): Promise<void> {
  const sent = await sendDeadLetterOnce(letter);
  if ('messageId' in sent && !sent.recorded)
    throw new TransientError(
      `the dead letter is on the queue (message ${sent.messageId}), but the order document could not record it: call again`,
    );
}

/**
 * Records on the order document the letter that went out as `messageId`; sends nothing, so it may
 * be retried as often as the database needs. A message id already recorded stands (a concurrent
 * run's); a letter a repair resolved stays resolved. Answers the message id the document holds
 * afterwards, undefined for a resolved letter without one. Throws what the database throws.
 */
export async function recordDeadLetter(letter: DeadLetter, messageId: string): Promise<string | undefined> {
  const recorded = await updateOrder(letter.orderId, (order) =>
    order.deadLetter?.messageId || order.deadLetter?.state === 'resolved'
      ? undefined
      : { ...order, deadLetter: { ...(order.deadLetter ?? { letter }), state: 'sent', messageId } },
  );
  const stored = recorded.deadLetter;
  return stored?.state === 'resolved' && !stored.messageId ? undefined : (stored?.messageId ?? messageId);
}

export async function listDeadLetters(): Promise<{ approximateCount: number; deadLetters: DeadLetter[] }> {
  const queue = deadLetters();
  const [{ approximateMessagesCount }, { peekedMessageItems }] = await Promise.all([
    queue.getProperties(),
    queue.peekMessages({ numberOfMessages: PEEK_LIMIT }),
  ]);
  return {
    approximateCount: approximateMessagesCount ?? peekedMessageItems.length,
    deadLetters: peekedMessageItems.map((item) => decodeMessage<DeadLetter>(item.messageText)),
  };
}

/**
 * Takes the order's message off the queue once a repair resolved it. Best effort: a queue can only
 * be searched by receiving its messages, and a concurrent search hides the messages it holds, so a
 * message not found now stays until the next search. The order document, not the queue, says
 * whether a dead letter is resolved, and the operator's list leaves resolved ones out.
 */
export async function removeDeadLetter(orderId: string): Promise<boolean> {
  const queue = deadLetters();
  const held: { messageId: string; popReceipt: string }[] = [];
  let removed = false;
  try {
    for (let batch = 0; batch < 100 && !removed; batch += 1) {
      const { receivedMessageItems } = await queue.receiveMessages({
        numberOfMessages: PEEK_LIMIT,
        visibilityTimeout: 30,
      });
      if (receivedMessageItems.length === 0) break;
      for (const item of receivedMessageItems) {
        if (!removed && decodeMessage<DeadLetter>(item.messageText).orderId === orderId) {
          await queue.deleteMessage(item.messageId, item.popReceipt);
          removed = true;
        } else held.push(item);
      }
    }
  } finally {
    await Promise.all(
      held.map((item) => queue.updateMessage(item.messageId, item.popReceipt, undefined, 0).catch(() => undefined)),
    );
  }
  return removed;
}

async function findMessage(orderId: string): Promise<{ messageId: string } | undefined> {
  const { peekedMessageItems } = await deadLetters().peekMessages({ numberOfMessages: PEEK_LIMIT });
  const found = peekedMessageItems.find((item) => decodeMessage<DeadLetter>(item.messageText).orderId === orderId);
  return found ? { messageId: found.messageId } : undefined;
}
