/** The providers the notifications context works with, as its handlers receive them. */
import type { Providers } from '../../libs/config';
import type { Mailer } from './mailer';
import { simulatedMailer } from './simulated-mailer';

export interface NotificationsProviders {
  mailer: Mailer;
}

/** The implementations behind the PROVIDERS setting. */
export const notificationsProviders: Record<Providers, () => NotificationsProviders> = {
  simulated: () => ({ mailer: simulatedMailer }),
};
