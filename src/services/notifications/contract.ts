/** The notifications context's activities: each registered name with its command and the facts it answers. */
import { activity } from '../../libs/activity';
import {
  CancellationNotNeeded,
  CancellationSent,
  ConfirmationBounced,
  ConfirmationSent,
  SendCancellation,
  SendConfirmation,
} from '../../libs/events';

export const NotificationsContract = {
  sendConfirmation: activity('sendConfirmation', SendConfirmation, [ConfirmationSent, ConfirmationBounced]),
  sendCancellation: activity('sendCancellation', SendCancellation, [CancellationSent, CancellationNotNeeded]),
} as const;

/** The registered names alone. */
export const NotificationsActivities = {
  sendConfirmation: NotificationsContract.sendConfirmation.name,
  sendCancellation: NotificationsContract.sendCancellation.name,
} as const;
