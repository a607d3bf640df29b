/** The shipping context's activities, as the orchestrator calls them. */
export const ShippingActivities = {
  create: 'createShipment',
  cancel: 'cancelShipment',
} as const;
