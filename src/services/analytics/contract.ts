/** The analytics context's activities, as the orchestrator calls them. */
export const AnalyticsActivities = {
  record: 'recordOrderFact',
  retract: 'retractOrderFact',
} as const;
