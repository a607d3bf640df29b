import type { Mailer } from './mailer';
import { messageDocumentId, readMessage, recordMessage, type MessageKind } from './repository';

export type SendOnceResult =
  { kind: 'sent'; messageId: string; repeated: boolean } | { kind: 'bounced'; reason: string };

/**
 * Sends the order's message of one kind at most once. The stored message answers a repeat
 * without mailing again; its id doubles as the mailer's idempotency key, so a run that crashed
 * after sending but before recording resends under the same key and gets the same message id.
 */
export async function sendOnce(
  mailer: Mailer,
  orderId: string,
  kind: MessageKind,
  email: { to: string; subject: string; body: string },
): Promise<SendOnceResult> {
  const existing = await readMessage(orderId, kind);
  if (existing) return { kind: 'sent', messageId: existing.messageId, repeated: true };

  const id = messageDocumentId(orderId, kind);
  const result = await mailer.send({ idempotencyKey: id, ...email });
  if (result.kind === 'bounced') return { kind: 'bounced', reason: result.reason };
  const recorded = await recordMessage({
    id,
    orderId,
    kind,
    to: email.to,
    subject: email.subject,
    messageId: result.messageId,
    sentAt: new Date().toISOString(),
  });
  return { kind: 'sent', messageId: recorded.messageId, repeated: false };
}
