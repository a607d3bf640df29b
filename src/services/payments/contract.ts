/** The payments context's activities, as the orchestrator calls them. */
export const PaymentsActivities = {
  charge: 'chargePayment',
  refund: 'refundPayment',
} as const;
