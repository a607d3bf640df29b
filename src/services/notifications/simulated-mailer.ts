/**
 * The simulated mail provider, the Mailer behind `PROVIDERS=simulated`. Deterministic: the message id derives from the idempotency key,
 * so a resend after a crash is recognisable as the same message. Any address at `bounce.test`
 * has no mailbox: the provider refuses it permanently, which no retry can change.
 */
import { createHash } from 'node:crypto';
import { simulatedLatency } from '../../libs/simulation';

const BOUNCING_DOMAIN = 'bounce.test';

import type { Email, Mailer, SendResult } from './mailer';

async function send(email: Email): Promise<SendResult> {
  await simulatedLatency('mailer');
  const domain = email.to.slice(email.to.lastIndexOf('@') + 1).toLowerCase();
  if (domain === BOUNCING_DOMAIN) return { kind: 'bounced', reason: `mailbox ${email.to} does not exist` };
  const digest = createHash('sha256').update(email.idempotencyKey).digest('hex').slice(0, 24);
  return { kind: 'accepted', messageId: `msg_${digest}` };
}

export const simulatedMailer: Mailer = { send };
