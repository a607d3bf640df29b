/** The inventory context's activities, as the orchestrator calls them. */
export const InventoryActivities = {
  reserve: 'reserveStock',
  release: 'releaseStock',
  commit: 'commitStock',
} as const;
