/**
 * What the notifications context needs from a mail provider. Each message carries an idempotency
 * key, so a resend after a crash is recognisable as the same message; a mailbox that does not
 * exist is an answer (bounced), a provider that cannot be reached throws TransientError. The
 * implementation is chosen by the PROVIDERS setting (notifications/index.ts); the only one today
 * is simulated-mailer.ts.
 */
export interface Email {
  idempotencyKey: string;
  to: string;
  subject: string;
  body: string;
}

export type SendResult = { kind: 'accepted'; messageId: string } | { kind: 'bounced'; reason: string };

/** A message the provider accepted, as its sent log tells it. */
export interface SentEmail {
  messageId: string;
  to: string;
  subject: string;
  acceptedAt: string;
}

export interface Mailer {
  send(email: Email): Promise<SendResult>;
  /**
   * The message accepted under `idempotencyKey`, if any: how the shop finds a message it sent but
   * never recorded. Mail APIs offer this as a search of their sent-message log by the client's
   * own metadata (a tag or custom header carrying the key, sent with the message).
   */
  find(idempotencyKey: string): Promise<SentEmail | undefined>;
}
