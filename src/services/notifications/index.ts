/**
 * The notifications context: importing it registers its activities, each given the providers the
 * PROVIDERS setting chooses (an unknown value fails here, at the app's start).
 */
import { registerActivity } from '../../libs/activity';
import { config } from '../../libs/config';
import { NotificationsContract } from './contract';
import { notificationsProviders } from './providers';
import { sendCancellation } from './send-cancellation';
import { sendConfirmation } from './send-confirmation';

const providers = notificationsProviders[config.providers()]();

export const notificationsActivities = {
  sendConfirmation: registerActivity(NotificationsContract.sendConfirmation, sendConfirmation(providers)),
  sendCancellation: registerActivity(NotificationsContract.sendCancellation, sendCancellation(providers)),
};
