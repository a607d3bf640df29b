/** The notifications context's activities, as the orchestrator calls them. */
export const NotificationsActivities = {
  sendConfirmation: 'sendConfirmation',
  sendCancellation: 'sendCancellation',
} as const;
