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

export interface Mailer {
  send(email: Email): Promise<SendResult>;
}
