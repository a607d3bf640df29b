/** The loyalty context's names. It reacts to the saga's facts; the saga never calls it. */
export const LoyaltyFunctions = {
  onOrderOutcome: 'awardLoyaltyPoints',
} as const;

/** Where the Functions host moves a message that failed `maxDequeueCount` times (host.json). */
export const poisonQueueOf = (queueName: string) => `${queueName}-poison`;
