/**
 * The simulated mail provider, the Mailer behind `PROVIDERS=simulated`. Deterministic: the message
 * id derives from the idempotency key, so a resend after a crash is recognisable as the same
 * message. Any address at `bounce.test` has no mailbox: the provider refuses it permanently, which
 * no retry can change.
 *
 * What it accepts it logs in the `mailerLog` container, one entry per key, so it remembers its
 * sends across calls and restarts as a real provider's sent log would: a message sent by a run
 * that crashed before the shop recorded it can still be found (find).
 */
import { createHash } from 'node:crypto';
import { simulatedLatency } from '../../libs/simulation';
import type { Email, Mailer, SendResult, SentEmail } from './mailer';
import { logAcceptedMail, readMailerLogEntry } from './repository';

const BOUNCING_DOMAIN = 'bounce.test';

async function send(email: Email): Promise<SendResult> {
  await simulatedLatency('mailer');
  const domain = email.to.slice(email.to.lastIndexOf('@') + 1).toLowerCase();
  if (domain === BOUNCING_DOMAIN) return { kind: 'bounced', reason: `mailbox ${email.to} does not exist` };
  const digest = createHash('sha256').update(email.idempotencyKey).digest('hex').slice(0, 24);
  const logged = await logAcceptedMail({
    id: email.idempotencyKey,
    messageId: `msg_${digest}`,
    to: email.to,
    subject: email.subject,
    acceptedAt: new Date().toISOString(),
  });
  return { kind: 'accepted', messageId: logged.messageId };
}

async function find(idempotencyKey: string): Promise<SentEmail | undefined> {
  await simulatedLatency('mailer');
  const entry = await readMailerLogEntry(idempotencyKey);
  return entry && { messageId: entry.messageId, to: entry.to, subject: entry.subject, acceptedAt: entry.acceptedAt };
}

export const simulatedMailer: Mailer = { send, find };
